import { type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../functions/core/logger';
import type { WorkflowHistoryEvent } from '../functions/core/ports/orchestrator';
import { appendWhole } from './append-whole';

const JOURNAL_FILE = 'journal.jsonl';
const LINE_PREFIX = '{"executionArn":"';
const NEWLINE = 0x0a;

/** Where one line of the journal is: its first byte and its length without the newline. */
interface Chunk {
  offset: number;
  length: number;
}

interface JournalLine {
  executionArn: string;
  events: WorkflowHistoryEvent[];
}

/**
 * The event histories of every execution of one runtime directory, in one append-only file
 * (`history/journal.jsonl`): each line holds events of one execution,
 * `{"executionArn": "...", "events": [...]}`, in the order they happened. Events wait in memory
 * until a flush (the runtime flushes every half second, before a history is read, and when an
 * execution ends), and every execution's pending events go out in one write: a short execution
 * costs a share of a write instead of a file of its own (an open, a write and a close). Where each
 * execution's lines are is indexed in memory when the journal opens. A crash can only lose the
 * events since the last flush or cut the last line, which is ignored (and the next write starts on
 * a new line).
 */
export class HistoryJournal {
  readonly #path: string;
  readonly #logger: Logger;
  readonly #chunks = new Map<string, Chunk[]>();
  /** Serialized events waiting for the next write, by execution. */
  #pending = new Map<string, string[]>();
  #handle: Promise<FileHandle> | undefined;
  /** The write in flight; resolves false when it failed (its events wait for the next flush). */
  #draining: Promise<boolean> | undefined;
  /** The journal's size as far as this process knows; unknown after a failed write. */
  #size: number | undefined;
  /** The file may end in a cut line (a crash, a failed write): the next write starts a new line. */
  #mayEndCut = false;

  private constructor(path: string, logger: Logger) {
    this.#path = path;
    this.#logger = logger;
  }

  /** Opens the journal of a runtime directory and indexes every execution's lines. */
  static async open(directory: string, logger: Logger): Promise<HistoryJournal> {
    await mkdir(join(directory, 'history'), { recursive: true, mode: 0o700 });
    const journal = new HistoryJournal(join(directory, 'history', JOURNAL_FILE), logger);
    await journal.#index();
    return journal;
  }

  append(executionArn: string, event: WorkflowHistoryEvent): void {
    const pending = this.#pending.get(executionArn);
    const serialized = JSON.stringify(event);
    if (pending) pending.push(serialized);
    else this.#pending.set(executionArn, [serialized]);
  }

  /** True when the journal holds lines of the execution. */
  has(executionArn: string): boolean {
    return this.#chunks.has(executionArn);
  }

  get hasPending(): boolean {
    return this.#pending.size > 0;
  }

  /**
   * Writes every pending event (and waits for a write already in flight). False when a write
   * failed: it is logged, and its events wait for the next flush.
   */
  async flush(): Promise<boolean> {
    while (this.#draining || this.#pending.size > 0) {
      this.#draining ??= this.#drain();
      if (!(await this.#draining)) return false;
    }
    return true;
  }

  /** Drops the pending events of an execution that did not start after all. */
  discard(executionArn: string): void {
    this.#pending.delete(executionArn);
  }

  /** The execution's events so far, oldest first (its pending events are written first). */
  async read(executionArn: string): Promise<WorkflowHistoryEvent[]> {
    // A write in flight may hold this execution's events: they are indexed when it ends.
    if (this.#pending.has(executionArn) || this.#draining) await this.flush();
    const chunks = this.#chunks.get(executionArn);
    if (!chunks) return [];
    const handle = await this.#open();
    const events: WorkflowHistoryEvent[] = [];
    for (const chunk of chunks) {
      const buffer = Buffer.alloc(chunk.length);
      const { bytesRead } = await handle.read(buffer, 0, chunk.length, chunk.offset);
      try {
        const line = JSON.parse(buffer.toString('utf8', 0, bytesRead)) as JournalLine;
        events.push(...line.events);
      } catch {
        // A line cut by a crash or a failed write: the events were written again after it.
      }
    }
    return events;
  }

  /** Waits for pending events, then closes the file. */
  async close(): Promise<void> {
    await this.flush();
    const handle = await this.#handle?.catch(() => undefined);
    this.#handle = undefined;
    await handle?.close().catch(() => {});
  }

  #open(): Promise<FileHandle> {
    this.#handle ??= open(this.#path, 'a+', 0o600);
    return this.#handle;
  }

  async #index(): Promise<void> {
    let content: Buffer;
    try {
      content = await readFile(this.#path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.#size = 0;
      return;
    }
    let start = 0;
    while (start < content.length) {
      const end = content.indexOf(NEWLINE, start);
      // The last line without its newline was cut: never indexed, and the next write starts anew.
      if (end === -1) break;
      const executionArn = executionArnOf(content, start, end);
      if (executionArn !== undefined) this.#addChunk(executionArn, { offset: start, length: end - start });
      start = end + 1;
    }
    this.#size = content.length;
    this.#mayEndCut = content.length > 0 && content[content.length - 1] !== NEWLINE;
  }

  #addChunk(executionArn: string, chunk: Chunk): void {
    const chunks = this.#chunks.get(executionArn);
    if (chunks) chunks.push(chunk);
    else this.#chunks.set(executionArn, [chunk]);
  }

  async #drain(): Promise<boolean> {
    try {
      while (this.#pending.size > 0) {
        const batch = this.#pending;
        this.#pending = new Map();
        const lines = [...batch].map(([executionArn, events]) => ({
          executionArn,
          text: `${JSON.stringify({ executionArn }).slice(0, -1)},"events":[${events.join(',')}]}`,
        }));
        try {
          const handle = await this.#open();
          this.#size ??= (await handle.stat()).size;
          const separator = this.#mayEndCut ? '\n' : '';
          let offset = this.#size + separator.length;
          const placed = lines.map((line) => {
            const length = Buffer.byteLength(line.text);
            const chunk = { offset, length };
            offset += length + 1;
            return { executionArn: line.executionArn, chunk };
          });
          const text = `${separator}${lines.map((line) => `${line.text}\n`).join('')}`;
          appendWhole(handle.fd, text);
          this.#size = offset;
          this.#mayEndCut = false;
          for (const { executionArn, chunk } of placed) this.#addChunk(executionArn, chunk);
        } catch (error) {
          // What reached the file is unknown: learn its size again, start the next write on a new
          // line, and keep the events for it (a cut copy is ignored on read).
          this.#size = undefined;
          this.#mayEndCut = true;
          this.#handle = undefined;
          for (const [executionArn, events] of batch) {
            this.#pending.set(executionArn, [...events, ...(this.#pending.get(executionArn) ?? [])]);
          }
          this.#logger.error('could not append to the execution histories', { path: this.#path, error });
          return false;
        }
      }
      return true;
    } finally {
      this.#draining = undefined;
    }
  }
}

/** The events of a history file an earlier version wrote (one JSON event a line; a cut line ignored). */
export async function readHistoryFileOfEarlierVersion(path: string): Promise<WorkflowHistoryEvent[]> {
  const events: WorkflowHistoryEvent[] = [];
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    if (line.length === 0) continue;
    try {
      events.push(JSON.parse(line) as WorkflowHistoryEvent);
    } catch {
      // A line cut by a crash: everything before it is intact.
    }
  }
  return events;
}

/** The execution a journal line belongs to, read from the line's first member. */
function executionArnOf(content: Buffer, start: number, end: number): string | undefined {
  const prefixEnd = start + LINE_PREFIX.length;
  if (content.toString('utf8', start, Math.min(prefixEnd, end)) !== LINE_PREFIX) return undefined;
  const quote = content.indexOf('"', prefixEnd);
  if (quote === -1 || quote >= end) return undefined;
  const raw = content.toString('utf8', prefixEnd, quote);
  // An escaped character (never in an ARN this runtime makes): decode the whole line instead.
  if (!raw.includes('\\')) return raw;
  try {
    return (JSON.parse(content.toString('utf8', start, end)) as JournalLine).executionArn;
  } catch {
    return undefined;
  }
}
