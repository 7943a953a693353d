import { describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../../functions/core/json-logger';

describe('Function: createJsonLogger', () => {
  const capture = (level: 'DEBUG' | 'INFO' | 'WARN' = 'INFO') => {
    const lines: string[] = [];
    const logger = createJsonLogger({
      level,
      service: 'test',
      write: (line) => lines.push(line),
      clock: () => new Date('2026-01-01T00:00:00Z'),
    });
    return { logger, lines };
  };

  it('writes one JSON object per entry with the message and context', () => {
    const { logger, lines } = capture();

    logger.child({ execution_id: 'e-1' }).info('scan started', { account_id: 'a-1' });

    expect(lines.map((line) => JSON.parse(line))).toEqual([
      {
        timestamp: '2026-01-01T00:00:00.000Z',
        level: 'INFO',
        service: 'test',
        message: 'scan started',
        execution_id: 'e-1',
        account_id: 'a-1',
      },
    ]);
  });

  it('drops entries below the configured level', () => {
    const { logger, lines } = capture('WARN');

    logger.info('ignored');
    logger.debug('ignored');
    logger.warn('kept');

    expect(lines).toHaveLength(1);
  });

  it('redacts secret-looking keys at any depth', () => {
    const { logger, lines } = capture();
    const canary = 'canary-value-that-must-not-appear';

    logger.info('stored', {
      credentials: { secret_access_key: canary },
      nested: { client_secret: canary, private_key: canary, api_key: canary, session_token: canary },
      account_id: 'kept',
    });

    expect(lines[0]).not.toContain(canary);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ credentials: '[redacted]', account_id: 'kept' });
  });
});
