import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Runs exactly what `npm start` runs, in a fresh data directory, on a free port. */
function startProcess(dataDirectory: string): {
  child: ChildProcess;
  url: Promise<string>;
  output: () => string;
} {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', './local/polyfills.ts', 'local/main.ts'],
    {
      cwd: process.cwd(),
      env: { ...process.env, PORT: '0', THREAT_ENGINE_DATA_DIR: dataDirectory, LOG_LEVEL: 'WARN' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /is up at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before starting:\n${output}`)));
  });
  return { child, url, output: () => output };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

describe('npm start', () => {
  let dataDirectory: string;
  beforeAll(async () => {
    dataDirectory = await mkdtemp(join(tmpdir(), 'te-start-'));
  });
  afterAll(async () => {
    await rm(dataDirectory, { recursive: true, force: true });
  });

  it('serves a healthy runtime, shuts down cleanly on Ctrl-C, and comes back with the same data', async () => {
    // Act: first start
    const first = startProcess(dataDirectory);
    const url = await first.url;
    const health = await fetch(`${url}/api/v1/health`);
    const root = await fetch(`${url}/`);

    // Assess
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'healthy',
      dynamodb: 'connected',
      secrets_manager: 'connected',
      version: expect.any(String),
      checks: { dynamodb: { status: 'ok' }, secret_store: { status: 'ok' } },
    });
    expect(root.status).toBe(200);
    expect(await stop(first.child)).toBe(0);

    // Act: second start on the same data directory
    const second = startProcess(dataDirectory);
    const secondUrl = await second.url;
    const again = await fetch(`${secondUrl}/api/v1/health`);

    // Assess
    expect(again.status).toBe(200);
    expect(second.output()).not.toMatch(/created local tables/);
    expect(await stop(second.child)).toBe(0);
  }, 60_000);

  it('refuses to start on a malformed setting and names the variable', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', './local/polyfills.ts', 'local/main.ts'],
      {
        env: { ...process.env, PORT: 'eighty', THREAT_ENGINE_DATA_DIR: dataDirectory },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    expect(code).toBe(2);
    expect(stderr).toMatch(/PORT: expected a port number/);
  }, 30_000);
});
