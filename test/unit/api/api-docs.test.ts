import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

describe('Function: apiDocsAsset', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('reads the Swagger UI files from the function asset on Lambda (LAMBDA_TASK_ROOT), where the CommonJS bundle has no import.meta', async () => {
    // Prepare
    const taskRoot = await mkdtemp(join(tmpdir(), 'te-task-root-'));
    await mkdir(join(taskRoot, 'swagger-ui'));
    await writeFile(join(taskRoot, 'swagger-ui', 'swagger-ui-bundle.js'), '/* bundled copy */');
    vi.stubEnv('LAMBDA_TASK_ROOT', taskRoot);
    const { apiDocsAsset } = await import('../../../functions/api/api-docs');

    // Act
    const text = await apiDocsAsset('swagger-ui-bundle.js');

    // Assess
    expect(text).toBe('/* bundled copy */');
    await rm(taskRoot, { recursive: true, force: true });
  });

  it('reads them from the installed swagger-ui-dist package elsewhere', async () => {
    // Prepare
    vi.stubEnv('LAMBDA_TASK_ROOT', '');
    const { apiDocsAsset } = await import('../../../functions/api/api-docs');

    // Act
    const text = await apiDocsAsset('swagger-ui.css');

    // Assess
    expect(text.length).toBeGreaterThan(1000);
    expect(text).toContain('.swagger-ui');
  });
});
