import type { LogLevel } from '../../schemas/config';
import { type Logger, redactSecrets } from './logger';

const SEVERITY: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, CRITICAL: 50 };

export interface JsonLoggerOptions {
  level: LogLevel;
  service: string;
  /** Where each JSON line goes; stdout by default (CloudWatch Logs on Lambda). */
  write?: (line: string) => void;
  clock?: () => Date;
}

/** A structured logger writing one JSON object per line, with secret-looking keys redacted. */
export function createJsonLogger(options: JsonLoggerOptions, bound: Record<string, unknown> = {}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? (() => new Date());
  const threshold = SEVERITY[options.level];
  const emit = (level: LogLevel, message: string, context?: Record<string, unknown>) => {
    if (SEVERITY[level] < threshold) return;
    const entry = {
      timestamp: clock().toISOString(),
      level,
      service: options.service,
      message,
      ...(redactSecrets({ ...bound, ...context }) as Record<string, unknown>),
    };
    write(JSON.stringify(entry));
  };
  return {
    debug: (message, context) => emit('DEBUG', message, context),
    info: (message, context) => emit('INFO', message, context),
    warn: (message, context) => emit('WARN', message, context),
    error: (message, context) => emit('ERROR', message, context),
    child: (context) => createJsonLogger(options, { ...bound, ...context }),
  };
}
