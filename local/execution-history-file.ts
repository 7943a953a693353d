import { appendFile, type FileHandle, open, readFile } from 'node:fs/promises';
import type { Logger } from '../functions/core/logger';
import type { WorkflowHistoryEvent } from '../functions/core/ports/orchestrator';

/**
 * The append-only event history of one execution (`history/<workflow>/<file>.jsonl`): one JSON
 * event per line. Events are kept in memory until `flush()` (the runtime flushes every live
 * history periodically, before a history is read, and when the execution ends), so a short
 * execution costs one write instead of one per state; a crash can only lose the events since the
 * last flush or cut the last line (a cut line is ignored on read).
 */
export class HistoryFile {
  #pending: string[] = [];
  #handle: Promise<FileHandle> | undefined;
  #flushing: Promise<void> | undefined;
  /** After a failed write the file may end in a cut line: the next batch starts on a new line. */
  #mayEndCut = false;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  append(event: WorkflowHistoryEvent): void {
    this.#pending.push(`${JSON.stringify(event)}\n`);
  }

  /** True while events wait for a flush. */
  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  /** Writes the pending events (and waits for a write already in flight). */
  async flush(): Promise<void> {
    while (this.#flushing || this.#pending.length > 0) {
      this.#flushing ??= this.#drain();
      await this.#flushing;
    }
  }

  /** Ends the file's use by a live execution: waits for pending events, then closes the handle. */
  async close(): Promise<void> {
    await this.flush();
    const handle = await this.#handle;
    this.#handle = undefined;
    await handle?.close().catch(() => {});
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.join('');
        this.#pending = [];
        try {
          // One handle per live execution: opening the file for every batch cost more than the write.
          this.#handle ??= open(this.path, 'a', 0o600);
          await (await this.#handle).write(this.#mayEndCut ? `\n${batch}` : batch, null, 'utf8');
          this.#mayEndCut = false;
        } catch (error) {
          this.#handle = undefined;
          this.#mayEndCut = true;
          this.logger.error('could not append to an execution history', { path: this.path, error });
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  static async read(path: string): Promise<WorkflowHistoryEvent[]> {
    return (await HistoryFile.#readWithTail(path)).events;
  }

  /** Ends a line a crash cut (so the next append starts on its own line); returns the events. */
  static async repair(path: string): Promise<WorkflowHistoryEvent[]> {
    const { events, cut } = await HistoryFile.#readWithTail(path);
    if (cut) await appendFile(path, '\n', 'utf8');
    return events;
  }

  static async #readWithTail(path: string): Promise<{ events: WorkflowHistoryEvent[]; cut: boolean }> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], cut: false };
      throw error;
    }
    const events: WorkflowHistoryEvent[] = [];
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      try {
        events.push(JSON.parse(line) as WorkflowHistoryEvent);
      } catch {
        // A line cut by a crash: everything before it is intact.
      }
    }
    return { events, cut: text.length > 0 && !text.endsWith('\n') };
  }
}
