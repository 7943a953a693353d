import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPowertoolsLogger } from '../../../functions/adapters/aws/powertools-logger';

describe('Function: createPowertoolsLogger', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function captured(): string[] {
    const writes: string[] = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        writes.push(args.map(String).join(' '));
      });
    }
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    return writes;
  }

  it('writes structured entries with the service name, child keys and redacted secrets', () => {
    // Prepare
    const writes = captured();
    const logger = createPowertoolsLogger({ level: 'INFO', service: 'threat-engine-test' });
    const canary = 'PowertoolsCanarySecretValue';

    // Act
    logger
      .child({ execution_id: 'e-1' })
      .info('scan started', { account_id: 'a-1', credentials: { api_key: canary } });
    logger.debug('not shown at INFO');

    // Assess
    const text = writes.join('\n');
    expect(text).toContain('"service":"threat-engine-test"');
    expect(text).toContain('"message":"scan started"');
    expect(text).toContain('"execution_id":"e-1"');
    expect(text).toContain('"account_id":"a-1"');
    expect(text).not.toContain(canary);
    expect(text).not.toContain('not shown at INFO');
  });
});
