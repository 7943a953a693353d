import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * One process per data directory: dynalite's LevelDB, the vault and the scheduler state are not
 * safe to share, and a second process used to die on LevelDB's own lock with a raw stack trace.
 * `<dataDir>/runtime.lock` (0600) is created exclusively and holds the owner's pid; a lock whose
 * pid is no longer alive (kill -9, power loss) is stale and taken over.
 */

export const DATA_DIR_LOCK_FILE = 'runtime.lock';

export interface DataDirLock {
  readonly path: string;
  /**
   * Says the holder is shutting down: a process starting meanwhile waits for the release instead
   * of failing (so a restart right after Ctrl-C works while workflows finish).
   */
  markStopping(): Promise<void>;
  /** Removes the lock file if it is still ours. Safe to call more than once. */
  release(): Promise<void>;
}

export interface AcquireDataDirLockOptions {
  /** How long to wait for a holder that is shutting down (default 30 s). */
  waitForStoppingMs?: number;
}

interface LockContent {
  pid: number;
  owner: string;
  host: string;
  acquired_at: string;
  stopping?: boolean;
}

const POLL_MS = 100;

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dataDirectory: string,
    readonly holder: { pid: number; owner: string; acquiredAt: string | null },
    options?: ErrorOptions,
  ) {
    super(
      `data directory ${dataDirectory} is in use by ${holder.owner} (pid ${holder.pid}` +
        `${holder.acquiredAt ? `, since ${holder.acquiredAt}` : ''}): stop that process ` +
        '(or wait for it to finish shutting down), or set THREAT_ENGINE_DATA_DIR to another directory',
      options,
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseLock(text: string): LockContent | null {
  try {
    const parsed = JSON.parse(text) as Partial<LockContent>;
    if (typeof parsed.pid !== 'number' || !Number.isInteger(parsed.pid) || parsed.pid <= 0) return null;
    return {
      pid: parsed.pid,
      owner: typeof parsed.owner === 'string' ? parsed.owner.slice(0, 100) : 'another process',
      host: typeof parsed.host === 'string' ? parsed.host : '',
      acquired_at: typeof parsed.acquired_at === 'string' ? parsed.acquired_at.slice(0, 40) : '',
      stopping: parsed.stopping === true,
    };
  } catch {
    return null;
  }
}

async function readLock(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Takes the data directory for this process, or throws DataDirLockedError naming the live holder.
 * `owner` says who holds it (e.g. `threat-engine local runtime`, `threat-engine migrate`).
 */
export async function acquireDataDirLock(
  dataDirectory: string,
  owner: string,
  options: AcquireDataDirLockOptions = {},
): Promise<DataDirLock> {
  await mkdir(dataDirectory, { recursive: true, mode: 0o700 });
  const path = join(dataDirectory, DATA_DIR_LOCK_FILE);
  const lock: LockContent = {
    pid: process.pid,
    owner,
    host: hostname(),
    acquired_at: new Date().toISOString(),
  };
  let content = `${JSON.stringify(lock)}\n`;
  const waitUntil = Date.now() + (options.waitForStoppingMs ?? 30_000);

  for (let attempt = 0; attempt < 5; ) {
    // Written aside then hard-linked into place: the lock file is never seen half-written.
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(temporary, content, { mode: 0o600 });
    await chmod(temporary, 0o600);
    try {
      await link(temporary, path);
      await unlink(temporary);
      let released = false;
      return {
        path,
        markStopping: async () => {
          if (released || (await readLock(path)) !== content) return;
          const stopping = `${JSON.stringify({ ...lock, stopping: true })}\n`;
          const aside = `${path}.${process.pid}.stopping`;
          await writeFile(aside, stopping, { mode: 0o600 });
          await rename(aside, path);
          content = stopping;
        },
        release: async () => {
          if (released) return;
          released = true;
          if ((await readLock(path)) === content) await unlink(path).catch(() => undefined);
        },
      };
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const existing = await readLock(path);
    if (existing === null) {
      attempt += 1;
      continue;
    }
    const holder = parseLock(existing);
    const alive = holder !== null && isAlive(holder.pid);
    if (holder && alive && holder.stopping && Date.now() < waitUntil) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      continue;
    }
    attempt += 1;
    // A lock held by this very process (a second runtime in it) is as taken as any other.
    if (holder && alive) {
      throw new DataDirLockedError(dataDirectory, {
        pid: holder.pid,
        owner: holder.owner,
        acquiredAt: holder.acquired_at || null,
      });
    }
    // Stale (dead pid) or unreadable: take it over, unless someone replaced it meanwhile.
    if ((await readLock(path)) === existing) await unlink(path).catch(() => undefined);
  }
  throw new Error(`could not take ${path}: it keeps changing`);
}
