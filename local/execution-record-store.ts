import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DependencyUnavailableError } from '../functions/core/errors';
import type { Logger } from '../functions/core/logger';
import {
  WORKFLOW_NAMES,
  type WorkflowExecutionDescription,
  type WorkflowName,
} from '../functions/core/ports/orchestrator';
import { appendWhole } from './append-whole';

/** What is kept on disk for one execution: its latest snapshot in the journal. */
export interface ExecutionRecord extends WorkflowExecutionDescription {
  version: number;
  stateMachineArn: string;
  /** Events written so far (the next event's id is this + 1). */
  eventCount: number;
}

export const RECORD_VERSION = 1;
const JOURNAL_FILE = 'journal.jsonl';
const LOAD_CONCURRENCY = 32;

interface PendingLine {
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * The execution records of one runtime directory: `executions/journal.jsonl`, one JSON snapshot
 * of a record per line, appended each time a record changes (a start, an end); the last line of
 * an execution wins. Appending to one open file costs a small write where a file per record cost
 * a file creation and a rename per change (most of the local runtime's disk time per scan). A
 * crash can only cut the last line, which is ignored on read (the snapshot before it stands).
 * The journal is compacted to one line per execution when the runtime opens. Records written by
 * earlier versions as one file each (`executions/<workflow>/<file>.json`) are read and folded in.
 */
export class ExecutionRecordStore {
  readonly #directory: string;
  readonly #logger: Logger;
  #pending: PendingLine[] = [];
  #handle: Promise<FileHandle> | undefined;
  #draining: Promise<void> | undefined;
  /** After a failed write the file may end in a cut line: the next batch starts on a new line. */
  #mayEndCut = false;
  /** The write in flight for each execution (what a second start of the same name waits for). */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(directory: string, logger: Logger) {
    this.#directory = directory;
    this.#logger = logger;
  }

  get #journalPath(): string {
    return join(this.#directory, 'executions', JOURNAL_FILE);
  }

  /** Reads every record (journal and one-file records), compacts the journal, returns them. */
  async load(): Promise<Map<string, ExecutionRecord>> {
    const records = new Map<string, ExecutionRecord>();
    const legacyFiles: string[] = [];
    for (const workflow of WORKFLOW_NAMES) {
      const recordDirectory = join(this.#directory, 'executions', workflow);
      await mkdir(recordDirectory, { recursive: true, mode: 0o700 });
      for (const entry of await readdir(recordDirectory)) {
        const path = join(recordDirectory, entry);
        if (entry.endsWith('.tmp')) await rm(path, { force: true });
        else if (entry.endsWith('.json')) legacyFiles.push(path);
      }
    }
    for (let index = 0; index < legacyFiles.length; index += LOAD_CONCURRENCY) {
      await Promise.all(
        legacyFiles.slice(index, index + LOAD_CONCURRENCY).map(async (path) => {
          try {
            this.#accept(records, JSON.parse(await readFile(path, 'utf8')), path);
          } catch (error) {
            this.#logger.warn('ignored an unreadable execution record', { path, error });
          }
        }),
      );
    }
    let lines = 0;
    let text = '';
    try {
      text = await readFile(this.#journalPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      lines += 1;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        // A line cut by a crash: the execution's previous snapshot stands.
        continue;
      }
      this.#accept(records, value, this.#journalPath);
    }
    if (legacyFiles.length > 0 || lines > records.size) {
      await this.#compact(records);
      await Promise.all(legacyFiles.map((path) => rm(path, { force: true })));
    }
    return records;
  }

  /**
   * Appends a snapshot of the record (taken now), after every earlier one. Rejects when the write
   * fails; later writes still go ahead.
   */
  persist(record: ExecutionRecord): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    const written = new Promise<void>((resolve, reject) => {
      this.#pending.push({ line, resolve, reject });
    });
    this.#draining ??= this.#drain();
    const settled = written.catch(() => {});
    this.#inFlight.set(record.executionArn, settled);
    void settled.then(() => {
      if (this.#inFlight.get(record.executionArn) === settled) this.#inFlight.delete(record.executionArn);
    });
    return written;
  }

  /** Resolves once the record's latest write has ended (written or failed). */
  async written(executionArn: string): Promise<void> {
    await this.#inFlight.get(executionArn);
  }

  /** Waits for every pending write, then closes the journal. */
  async close(): Promise<void> {
    while (this.#draining) await this.#draining;
    const handle = await this.#handle?.catch(() => undefined);
    this.#handle = undefined;
    await handle?.close().catch(() => {});
  }

  #accept(records: Map<string, ExecutionRecord>, value: unknown, path: string): void {
    const record = value as Partial<ExecutionRecord> | null;
    if (
      record?.version !== RECORD_VERSION ||
      typeof record.executionArn !== 'string' ||
      !WORKFLOW_NAMES.includes(record.workflow as WorkflowName)
    ) {
      this.#logger.warn('ignored an execution record of an unknown shape', { path });
      return;
    }
    records.set(record.executionArn, record as ExecutionRecord);
  }

  /** Rewrites the journal with one line per record (temporary file, then rename). */
  async #compact(records: Map<string, ExecutionRecord>): Promise<void> {
    const temporary = `${this.#journalPath}.${process.pid}.tmp`;
    const text = [...records.values()].map((record) => `${JSON.stringify(record)}\n`).join('');
    await writeFile(temporary, text, { encoding: 'utf8', mode: 0o600 });
    await rename(temporary, this.#journalPath);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        try {
          this.#handle ??= open(this.#journalPath, 'a', 0o600);
          const text = batch.map((pending) => pending.line).join('');
          appendWhole((await this.#handle).fd, this.#mayEndCut ? `\n${text}` : text);
          this.#mayEndCut = false;
          for (const pending of batch) pending.resolve();
        } catch (error) {
          this.#handle = undefined;
          this.#mayEndCut = true;
          this.#logger.error('could not write an execution record', { path: this.#journalPath, error });
          const failure = new DependencyUnavailableError(
            'local_step_functions',
            'could not write an execution record',
            { cause: error },
          );
          for (const pending of batch) pending.reject(failure);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }
}
