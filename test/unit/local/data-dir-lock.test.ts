import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DATA_DIR_LOCK_FILE, DataDirLockedError } from '../../../local/data-dir-lock';

/** The pid of a process that has exited: a lock left by it is stale. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('Function: acquireDataDirLock', () => {
  let dataDirectory: string;
  beforeEach(async () => {
    dataDirectory = await mkdtemp(join(tmpdir(), 'te-lock-'));
  });
  afterEach(async () => {
    await rm(dataDirectory, { recursive: true, force: true });
  });

  it('writes a 0600 lock file holding the owner and pid, and removes it on release', async () => {
    const lock = await acquireDataDirLock(dataDirectory, 'test owner');
    const path = join(dataDirectory, DATA_DIR_LOCK_FILE);

    expect(lock.path).toBe(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, owner: 'test owner' });

    await lock.release();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    await lock.release();
  });

  it('throws DataDirLockedError naming the owner and pid while a live process holds it', async () => {
    const lock = await acquireDataDirLock(dataDirectory, 'the first runtime');
    try {
      const error = await acquireDataDirLock(dataDirectory, 'the second runtime').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(DataDirLockedError);
      expect((error as Error).name).toBe('DataDirLockedError');
      expect((error as Error).message).toContain('the first runtime');
      expect((error as Error).message).toContain(`pid ${process.pid}`);
      expect((error as Error).message).toMatch(/stop that process|THREAT_ENGINE_DATA_DIR/);
    } finally {
      await lock.release();
    }
    const again = await acquireDataDirLock(dataDirectory, 'the second runtime');
    await again.release();
  });

  it('takes over a stale lock left by a process that died', async () => {
    const path = join(dataDirectory, DATA_DIR_LOCK_FILE);
    await writeFile(path, JSON.stringify({ pid: deadPid(), owner: 'killed runtime', acquired_at: 'x' }));

    const lock = await acquireDataDirLock(dataDirectory, 'the new runtime');

    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({
      pid: process.pid,
      owner: 'the new runtime',
    });
    await lock.release();
  });

  it('takes over an unreadable lock file', async () => {
    await writeFile(join(dataDirectory, DATA_DIR_LOCK_FILE), 'garbage');

    const lock = await acquireDataDirLock(dataDirectory, 'the new runtime');

    await lock.release();
  });

  it('waits for a holder that is shutting down instead of failing', async () => {
    const first = await acquireDataDirLock(dataDirectory, 'the first runtime');
    await first.markStopping();

    const second = acquireDataDirLock(dataDirectory, 'the restarted runtime');
    await first.release();
    const lock = await second;

    expect(JSON.parse(await readFile(lock.path, 'utf8'))).toMatchObject({ owner: 'the restarted runtime' });
    await lock.release();
  });

  it('does not remove a lock that another process took after ours was released', async () => {
    const first = await acquireDataDirLock(dataDirectory, 'the first runtime');
    await first.release();
    const second = await acquireDataDirLock(dataDirectory, 'the second runtime');

    await first.release();

    await expect(stat(second.path)).resolves.toBeDefined();
    await second.release();
  });
});
