import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '../../../schemas/config';
import { type Logger, redactSecrets } from '../../core/logger';

const POWERTOOLS_LEVEL = {
  DEBUG: 'DEBUG',
  INFO: 'INFO',
  WARN: 'WARN',
  ERROR: 'ERROR',
  CRITICAL: 'CRITICAL',
} as const satisfies Record<LogLevel, string>;

/**
 * The Logger port on Lambda: Powertools Logger (structured JSON with the Lambda context, cold
 * start and X-Ray trace id), with the same secret redaction as every other implementation.
 */
export function createPowertoolsLogger(options: { level: LogLevel; service: string }): Logger {
  return wrap(
    new PowertoolsLogger({ serviceName: options.service, logLevel: POWERTOOLS_LEVEL[options.level] }),
  );
}

function wrap(logger: PowertoolsLogger): Logger {
  const extra = (context?: Record<string, unknown>) =>
    context ? [redactSecrets(context) as Record<string, unknown>] : [];
  return {
    debug: (message, context) => logger.debug(message, ...extra(context)),
    info: (message, context) => logger.info(message, ...extra(context)),
    warn: (message, context) => logger.warn(message, ...extra(context)),
    error: (message, context) => logger.error(message, ...extra(context)),
    child: (context) => {
      const child = logger.createChild();
      child.appendPersistentKeys(redactSecrets(context) as Record<string, unknown>);
      return wrap(child);
    },
  };
}
