import { appendFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../functions/core/logger';
import { silentLogger } from '../../functions/core/logger';
import type { WorkflowHistoryEvent } from '../../functions/core/ports/orchestrator';
import { HistoryJournal } from '../../local/execution-history-journal';

const FIRST = 'arn:aws:states:ap-south-1:000000000000:execution:threat-engine-scan:first';
const SECOND = 'arn:aws:states:ap-south-1:000000000000:execution:threat-engine-scan:second';

function event(id: number, type = 'TaskStateEntered'): WorkflowHistoryEvent {
  return { id, timestamp: `2026-12-01T10:00:0${id}.000Z`, type, stateName: `State${id}` };
}

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { ...silentLogger, errors, error: (message: string) => errors.push(message) };
}

describe('HistoryJournal', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'history-journal-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes the pending events of every execution in one line each and reads each history back in order, also after reopening', async () => {
    // Prepare
    const journal = await HistoryJournal.open(directory, silentLogger);
    journal.append(FIRST, event(1, 'ExecutionStarted'));
    journal.append(SECOND, event(1, 'ExecutionStarted'));
    journal.append(FIRST, event(2));
    await journal.flush();
    journal.append(FIRST, event(3, 'ExecutionSucceeded'));

    // Act
    const first = await journal.read(FIRST);
    await journal.close();
    const reopened = await HistoryJournal.open(directory, silentLogger);

    // Assess
    expect(first.map((item) => item.id)).toEqual([1, 2, 3]);
    expect(await reopened.read(FIRST)).toEqual(first);
    expect(await reopened.read(SECOND)).toEqual([event(1, 'ExecutionStarted')]);
    expect(await reopened.read('arn:aws:states:ap-south-1:000000000000:execution:x:unknown')).toEqual([]);
    const lines = (await readFile(join(directory, 'history', 'journal.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      executionArn: FIRST,
      events: [event(1, 'ExecutionStarted'), event(2)],
    });
    await reopened.close();
  });

  it('places every line by its bytes, so histories after text of several bytes a character read back whole', async () => {
    // Prepare: a cause in several scripts (2-, 3- and 4-byte UTF-8 characters) before another line.
    const journal = await HistoryJournal.open(directory, silentLogger);
    const failed = {
      ...event(2, 'TaskFailed'),
      error: 'States.TaskFailed',
      cause: 'Zugriff verweigert — 拒绝访问 🔒',
    };
    journal.append(FIRST, failed);
    journal.append(SECOND, event(1, 'ExecutionStarted'));
    await journal.flush();
    journal.append(FIRST, event(3, 'ExecutionFailed'));

    // Act
    const beforeReopening = await journal.read(SECOND);
    await journal.close();
    const reopened = await HistoryJournal.open(directory, silentLogger);

    // Assess
    expect(beforeReopening).toEqual([event(1, 'ExecutionStarted')]);
    expect(await reopened.read(FIRST)).toEqual([failed, event(3, 'ExecutionFailed')]);
    expect(await reopened.read(SECOND)).toEqual([event(1, 'ExecutionStarted')]);
    await reopened.close();
  });

  it('ignores a last line a crash cut, and starts the next write on a new line', async () => {
    // Prepare
    const first = await HistoryJournal.open(directory, silentLogger);
    first.append(FIRST, event(1, 'ExecutionStarted'));
    await first.close();
    await appendFile(
      join(directory, 'history', 'journal.jsonl'),
      `{"executionArn":"${FIRST}","events":[{"id":2,"ty`,
    );

    // Act
    const reopened = await HistoryJournal.open(directory, silentLogger);
    reopened.append(FIRST, event(2, 'ExecutionAborted'));
    await reopened.flush();
    const again = await HistoryJournal.open(directory, silentLogger);

    // Assess
    expect((await reopened.read(FIRST)).map((item) => item.type)).toEqual([
      'ExecutionStarted',
      'ExecutionAborted',
    ]);
    expect(await again.read(FIRST)).toEqual(await reopened.read(FIRST));
    await Promise.all([reopened.close(), again.close()]);
  });

  it('reads the events of a write still in flight', async () => {
    // Prepare
    const journal = await HistoryJournal.open(directory, silentLogger);
    journal.append(FIRST, event(1, 'ExecutionStarted'));

    // Act
    const flushed = journal.flush();
    const events = await journal.read(FIRST);
    await flushed;

    // Assess
    expect(events).toEqual([event(1, 'ExecutionStarted')]);
    await journal.close();
  });

  it('keeps the events of a failed write for the next flush, and writes them once', async () => {
    // Prepare: the journal's path is taken by a directory, so opening it for appending fails.
    const logger = recordingLogger();
    const journal = await HistoryJournal.open(directory, logger);
    const path = join(directory, 'history', 'journal.jsonl');
    await mkdir(path);
    journal.append(FIRST, event(1, 'ExecutionStarted'));

    // Act
    const failed = await journal.flush();
    await rm(path, { recursive: true });
    const written = await journal.flush();

    // Assess
    expect({ failed, written }).toEqual({ failed: false, written: true });
    expect(logger.errors).toEqual(['could not append to the execution histories']);
    expect(await journal.read(FIRST)).toEqual([event(1, 'ExecutionStarted')]);
    await journal.close();
  });
});
