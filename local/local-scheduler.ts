import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Clock, systemClock } from '../functions/core/clock';
import { DomainError, ValidationError } from '../functions/core/errors';
import { scanExecutionName } from '../functions/core/execution-names';
import { type Logger, silentLogger } from '../functions/core/logger';
import type { Orchestrator } from '../functions/core/ports/orchestrator';
import type { ReconcileReport, SchedulerPort } from '../functions/core/ports/scheduler';
import type { ScheduleRepository } from '../functions/core/repositories/schedule-repository';
import { runConcurrently } from '../functions/core/run-concurrently';
import {
  fireTimesAfter,
  isScheduleActive,
  type ScheduleTiming,
  scheduleTimingOf,
} from '../functions/core/scheduling/schedule-service';
import { parseTimestamp, toIsoUtc } from '../schemas/common';
import type { Schedule } from '../schemas/schedule';

/**
 * The scheduler port of the local runtime: fires every enabled schedule at its times, with the
 * semantics of EventBridge Scheduler (the same expression evaluator: cron in the schedule's IANA
 * zone, a wall time skipped in spring never fires and one repeated in autumn fires once; rate from
 * its anchor; at() once; start and end dates; a flexible window as a deterministic offset in
 * [0, window) from a hash of the schedule id and the slot), and starts the scan workflow through
 * the orchestrator with `scheduled_time` = the slot.
 *
 * Scale and cost: entries live in memory, in a min-heap of next fire times with ONE timer armed
 * for the earliest (re-armed after every change, a delay capped at ~24 days). The schedules table
 * is read once, at start, and never polled: upsert/remove (called by the schedule service) keep
 * the entries current. Starts run at most `maxConcurrentStarts` at a time.
 *
 * Duplicates: a slot fires once per process (the next slot is always computed after the last one
 * fired), and a second start of the same (schedule, slot) meets the same execution name
 * (`scan-<scheduleId>-<slot>`) and input, which the orchestrator answers as already started;
 * the scan workflow's claim step dedupes whatever remains (a manual trigger in the same minute).
 *
 * Restarts: the last fired slot of every schedule is kept in a small state file (written
 * atomically, once per batch of fires). On start, slots that passed while stopped are REPORTED as
 * missed (one `missed` outcome per schedule, with the count, and a log line), not run in a burst;
 * with a catch-up window, the latest missed slot inside the window runs and the others are
 * reported. A stall of the process itself (the event loop blocked, the machine asleep) is handled
 * alike: the slot that was armed fires late, the slots that passed after it are reported missed.
 *
 * One-time schedules: the entry is dropped once its at() slot fired (and is never re-armed after
 * a restart, the state file remembering the slot). Setting the schedule `disabled` is left to the
 * run's outcome (recordOutcomeAndAutoPause), after the scan's claim step: disabling it when the
 * timer fires would make the claim skip the very run it started.
 */

/** What the scheduler needs from the schedules table: one listing at start, missed-slot counts. */
export interface LocalSchedulerStore {
  listAllForStartup: ScheduleRepository['listAllForStartup'];
  recordRunOutcome: ScheduleRepository['recordRunOutcome'];
}

export interface LocalSchedulerOptions {
  /** The orchestrator that starts the scan workflow (a function when it is built after the scheduler). */
  orchestrator: Orchestrator | (() => Orchestrator);
  schedules: LocalSchedulerStore;
  /** The state file (last fired slot per schedule), e.g. `<data directory>/scheduler/state.json`. */
  stateFile: string;
  clock?: Clock;
  logger?: Logger;
  /** A slot missed while stopped still runs at start when it is at most this old (default 0: none run). */
  catchUpWindowMinutes?: number;
  /** Scan starts in flight at once (default 64). */
  maxConcurrentStarts?: number;
  /** Whether a real timer drives the fires (default true); false leaves it to tick()/advanceTo(). */
  useTimer?: boolean;
  /** The longest single timer delay (default 24 days, under setTimeout's 2^31-1 ms). */
  maxTimerDelayMs?: number;
  /**
   * How missed slots are recorded (default: the store's recordRunOutcome 'missed' with the count).
   * The runtime may route it through recordOutcomeAndAutoPause so a missed one-time schedule ends.
   */
  recordMissed?: (scheduleId: string, count: number) => Promise<void>;
}

export interface TickReport {
  /** Slots started (new executions and duplicates alike). */
  fired: number;
  /** Starts the orchestrator answered as already started (same name and input). */
  alreadyStarted: number;
  /** Starts that failed (logged; the slot is not retried). */
  failed: number;
  /** Slots that passed while the process stalled and were not run. */
  missed: number;
}

export interface StartReport {
  /** Schedules read from the table. */
  loaded: number;
  /** Schedules with an armed entry. */
  armed: number;
  /** Schedules with slots missed while stopped, and how many slots in all. */
  missedSchedules: number;
  missedSlots: number;
  /** Missed slots that run now, inside the catch-up window. */
  caughtUp: number;
  /** Schedules whose stored timing could not be read (logged, not armed). */
  invalid: number;
}

export const DEFAULT_MAX_CONCURRENT_STARTS = 64;
export const DEFAULT_MAX_TIMER_DELAY_MS = 24 * 24 * 3_600_000;
/** Missed slots are counted up to this many per schedule (a long stop of a per-minute schedule). */
const MAX_MISSED_COUNT = 10_000;
const STATE_VERSION = 1;
const RECORD_CONCURRENCY = 16;

/**
 * The flexible-window offset of one slot: deterministic in [0, window) from a hash of the schedule
 * id and the slot, so a restart or a second process computes the same fire time.
 */
export function flexibleWindowOffsetMs(scheduleId: string, slot: Date, windowMinutes: number): number {
  const windowMs = Math.max(0, Math.floor(windowMinutes)) * 60_000;
  if (windowMs === 0) return 0;
  const digest = createHash('sha256')
    .update(`${scheduleId}|${toIsoUtc(slot)}`)
    .digest();
  return digest.readUIntBE(0, 6) % windowMs;
}

interface Entry {
  scheduleId: string;
  tenantId: string;
  accountId: string;
  timing: ScheduleTiming;
  windowMinutes: number;
  /** Everything that decides the fire times and the start: an upsert with the same key changes nothing. */
  key: string;
  /** The pending slot and when it fires (slot + window offset). */
  slot: Date;
  fireAt: number;
  version: number;
}

interface HeapNode {
  at: number;
  scheduleId: string;
  version: number;
}

/** A binary min-heap of fire times (ties by schedule id, for a stable order). */
class FireHeap {
  private readonly nodes: HeapNode[] = [];

  get size(): number {
    return this.nodes.length;
  }

  push(node: HeapNode): void {
    const nodes = this.nodes;
    nodes.push(node);
    let index = nodes.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(nodes[index] as HeapNode, nodes[parent] as HeapNode)) break;
      [nodes[index], nodes[parent]] = [nodes[parent] as HeapNode, nodes[index] as HeapNode];
      index = parent;
    }
  }

  peek(): HeapNode | undefined {
    return this.nodes[0];
  }

  pop(): HeapNode | undefined {
    const nodes = this.nodes;
    const top = nodes[0];
    const last = nodes.pop();
    if (top === undefined || last === undefined || nodes.length === 0) return top;
    nodes[0] = last;
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if (left < nodes.length && this.less(nodes[left] as HeapNode, nodes[smallest] as HeapNode))
        smallest = left;
      if (right < nodes.length && this.less(nodes[right] as HeapNode, nodes[smallest] as HeapNode))
        smallest = right;
      if (smallest === index) break;
      [nodes[index], nodes[smallest]] = [nodes[smallest] as HeapNode, nodes[index] as HeapNode];
      index = smallest;
    }
    return top;
  }

  /** Rebuilds the heap from the nodes that are still current (drops superseded ones). */
  compact(keep: (node: HeapNode) => boolean): void {
    const current = this.nodes.filter(keep);
    this.nodes.length = 0;
    for (const node of current) this.push(node);
  }

  private less(a: HeapNode, b: HeapNode): boolean {
    return a.at < b.at || (a.at === b.at && a.scheduleId < b.scheduleId);
  }
}

interface StateFile {
  version: number;
  saved_at: string;
  last_fired: Record<string, string>;
}

interface DueFire {
  entry: Entry;
  version: number;
  slot: Date;
}

export class LocalScheduler implements SchedulerPort {
  readonly #orchestrator: () => Orchestrator;
  readonly #store: LocalSchedulerStore;
  readonly #stateFile: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #catchUpMs: number;
  readonly #maxConcurrentStarts: number;
  readonly #useTimer: boolean;
  readonly #maxTimerDelayMs: number;
  readonly #recordMissed: (scheduleId: string, count: number) => Promise<void>;

  readonly #entries = new Map<string, Entry>();
  readonly #heap = new FireHeap();
  /** The last slot fired per schedule (ISO-8601 UTC), persisted in the state file. */
  readonly #lastFired = new Map<string, string>();
  /** Schedules upserted before start(): start() does not load them again. */
  readonly #upserted = new Set<string>();
  /** Next-slot memo of one batch: schedules sharing a timing share the computation. */
  #memo = new Map<string, Date | null>();
  readonly #checkedZones = new Set<string>();
  #stateDirty = false;
  #stateWrite: Promise<void> = Promise.resolve();
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #timerAt: number | undefined;
  #started = false;
  #closed = false;

  constructor(options: LocalSchedulerOptions) {
    const { orchestrator } = options;
    this.#orchestrator = typeof orchestrator === 'function' ? orchestrator : () => orchestrator;
    this.#store = options.schedules;
    this.#stateFile = options.stateFile;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#catchUpMs = Math.max(0, options.catchUpWindowMinutes ?? 0) * 60_000;
    this.#maxConcurrentStarts = Math.max(1, options.maxConcurrentStarts ?? DEFAULT_MAX_CONCURRENT_STARTS);
    this.#useTimer = options.useTimer ?? true;
    this.#maxTimerDelayMs = Math.min(options.maxTimerDelayMs ?? DEFAULT_MAX_TIMER_DELAY_MS, 2 ** 31 - 1);
    this.#recordMissed =
      options.recordMissed ??
      (async (scheduleId, count) => {
        await this.#store.recordRunOutcome(scheduleId, 'missed', { count });
      });
  }

  /** Schedules with an armed entry. */
  get size(): number {
    return this.#entries.size;
  }

  /** When the earliest armed entry fires, or undefined when none is armed. */
  get nextFireAt(): Date | undefined {
    const top = this.#peek();
    return top ? new Date(top.at) : undefined;
  }

  /** The pending slot of a schedule (for inspection and tests). */
  pendingSlot(scheduleId: string): { slot: Date; fireAt: Date } | undefined {
    const entry = this.#entries.get(scheduleId);
    return entry ? { slot: entry.slot, fireAt: new Date(entry.fireAt) } : undefined;
  }

  /**
   * Loads the state file and every schedule (one paginated Scan, at start only), reports the
   * slots missed while stopped (or runs the latest one inside the catch-up window) and arms the
   * timer. Without a state file (the first start) nothing counts as missed.
   */
  async start(): Promise<StartReport> {
    if (this.#started) throw new Error('the local scheduler is already started');
    this.#started = true;
    const state = await this.#readState();
    const now = this.#clock();
    const report: StartReport = {
      loaded: 0,
      armed: 0,
      missedSchedules: 0,
      missedSlots: 0,
      caughtUp: 0,
      invalid: 0,
    };
    const missed: Array<{ scheduleId: string; count: number; first: Date; last: Date }> = [];
    const known = new Set<string>();

    const listing = this.#store.listAllForStartup({
      onInvalid: (error) => {
        report.invalid += 1;
        this.#logger.warn('a stored schedule does not match its schema and is not scheduled', {
          schedule_id: error.id,
          fields: error.issues.map((issue) => issue.field),
        });
      },
    });
    for await (const schedule of listing) {
      report.loaded += 1;
      known.add(schedule.schedule_id);
      if (this.#upserted.has(schedule.schedule_id) || !isScheduleActive(schedule)) continue;
      const timing = this.#timingOf(schedule);
      if (!timing) {
        report.invalid += 1;
        continue;
      }
      const lastFired = state?.last_fired[schedule.schedule_id];
      if (lastFired) this.#lastFired.set(schedule.schedule_id, lastFired);
      const since = state ? this.#sinceOf(schedule, lastFired) : now;
      const passed = this.#passedSlots(
        schedule.schedule_id,
        timing,
        schedule.flexible_window_minutes ?? 0,
        since,
        now,
      );
      let resumeFrom: Date | undefined;
      if (passed.length > 0) {
        const latest = passed.at(-1) as Date;
        const catchUp = this.#catchUpMs > 0 && now.getTime() - latest.getTime() <= this.#catchUpMs;
        const count = catchUp ? passed.length - 1 : passed.length;
        if (catchUp) {
          report.caughtUp += 1;
          resumeFrom = latest;
        }
        if (count > 0)
          missed.push({ scheduleId: schedule.schedule_id, count, first: passed[0] as Date, last: latest });
      }
      if (this.#arm(schedule, timing, resumeFrom, now)) report.armed += 1;
    }
    this.#memo.clear();
    // Forget the state of schedules that no longer exist.
    for (const scheduleId of [...this.#lastFired.keys()]) {
      if (!known.has(scheduleId) && !this.#upserted.has(scheduleId)) this.#lastFired.delete(scheduleId);
    }

    report.missedSchedules = missed.length;
    report.missedSlots = missed.reduce((sum, item) => sum + item.count, 0);
    await runConcurrently(missed, RECORD_CONCURRENCY, async (item) => {
      this.#logger.warn('schedule slots passed while the scheduler was stopped and are reported missed', {
        schedule_id: item.scheduleId,
        count: item.count,
        first_slot: toIsoUtc(item.first),
        last_slot: toIsoUtc(item.last),
      });
      await this.#recordMissed(item.scheduleId, item.count).catch((error: unknown) =>
        this.#logger.error('could not record missed slots', { schedule_id: item.scheduleId, error }),
      );
    });
    this.#stateDirty = true;
    await this.#flushState();
    this.#logger.info('local scheduler started', {
      loaded: report.loaded,
      armed: report.armed,
      missed_schedules: report.missedSchedules,
      missed_slots: report.missedSlots,
      caught_up: report.caughtUp,
      first_run: state === undefined,
    });
    this.#rearm();
    return report;
  }

  /**
   * Creates or replaces a schedule's entry. Paused and disabled schedules have none. An upsert
   * that changes nothing that decides the fire times keeps the pending slot; otherwise the next
   * slot is computed after now (and after the last slot fired, so none fires twice).
   * Throws the ValidationError of a schedule whose timing cannot be read.
   */
  async upsert(schedule: Schedule): Promise<void> {
    this.#assertOpen();
    this.#upserted.add(schedule.schedule_id);
    if (!isScheduleActive(schedule)) {
      this.#entries.delete(schedule.schedule_id);
      return;
    }
    const timing = scheduleTimingOf(schedule);
    this.#checkZone(timing);
    this.#arm(schedule, timing, undefined, this.#clock());
    this.#memo.clear();
    this.#rearm();
  }

  /**
   * Compares the armed entries with the schedules table: arms the active schedules that have no
   * entry (or a different one), drops entries whose schedule is gone or no longer active.
   */
  async reconcile(
    schedules: AsyncIterable<Schedule> | Iterable<Schedule>,
    options: { dryRun?: boolean } = {},
  ): Promise<ReconcileReport> {
    this.#assertOpen();
    const dryRun = options.dryRun ?? false;
    const report: ReconcileReport = {
      created: [],
      updated: [],
      deleted: [],
      unchanged: 0,
      expired: [],
      failed: [],
      dry_run: dryRun,
    };
    const now = this.#clock();
    const seen = new Set<string>();
    const change = (scheduleId: string) => ({ entry_name: scheduleId, schedule_id: scheduleId });
    for await (const schedule of schedules) {
      const scheduleId = schedule.schedule_id;
      seen.add(scheduleId);
      const existing = this.#entries.get(scheduleId);
      if (!isScheduleActive(schedule)) {
        if (existing) {
          report.deleted.push(change(scheduleId));
          if (!dryRun) this.#entries.delete(scheduleId);
        } else report.unchanged += 1;
        continue;
      }
      let timing: ScheduleTiming;
      try {
        timing = scheduleTimingOf(schedule);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        report.failed.push({ ...change(scheduleId), error: message.slice(0, 200) });
        continue;
      }
      const key = JSON.stringify([
        timingKey(timing),
        schedule.flexible_window_minutes ?? 0,
        schedule.tenant_id,
        schedule.account_id,
      ]);
      if (existing?.key === key) {
        report.unchanged += 1;
        continue;
      }
      if (fireTimesAfter(timing, now, 1).length === 0) {
        report.expired.push(scheduleId);
        continue;
      }
      (existing ? report.updated : report.created).push(
        existing ? { ...change(scheduleId), differences: ['timing'] } : change(scheduleId),
      );
      if (!dryRun) this.#arm(schedule, timing, undefined, now);
    }
    for (const scheduleId of [...this.#entries.keys()]) {
      if (seen.has(scheduleId)) continue;
      report.deleted.push(change(scheduleId));
      if (!dryRun) this.#entries.delete(scheduleId);
    }
    if (!dryRun) {
      this.#memo.clear();
      this.#rearm();
    }
    this.#logger.info('local scheduler reconciled', {
      created: report.created.length,
      updated: report.updated.length,
      deleted: report.deleted.length,
      unchanged: report.unchanged,
      dry_run: dryRun,
    });
    return report;
  }

  /** Removes a schedule's entry and its state; removing a missing entry is not an error. */
  async remove(scheduleId: string): Promise<void> {
    this.#assertOpen();
    this.#upserted.add(scheduleId);
    this.#entries.delete(scheduleId);
    if (this.#lastFired.delete(scheduleId)) this.#stateDirty = true;
  }

  /** Fires every entry due at the clock's time (the timer calls this; tests may too). */
  async tick(): Promise<TickReport> {
    return this.#enqueue(() => this.#process(this.#clock()));
  }

  /**
   * Test time travel: fires, in time order, every slot due up to `time`, each as if the clock
   * read its fire time (so no slot counts as missed). The injected clock is not changed.
   */
  async advanceTo(time: Date): Promise<TickReport> {
    return this.#enqueue(async () => {
      const total: TickReport = { fired: 0, alreadyStarted: 0, failed: 0, missed: 0 };
      for (;;) {
        const top = this.#peek();
        if (!top || top.at > time.getTime()) break;
        addReport(total, await this.#process(new Date(top.at)));
      }
      return total;
    });
  }

  /** Resolves when the fires in progress (and the state write after them) are done. */
  async idle(): Promise<void> {
    await this.#queue;
    await this.#stateWrite;
  }

  /** Stops the timer, waits for the fires in progress and writes the state file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    await this.#queue.catch(() => undefined);
    await this.#flushState();
  }

  // -------------------------------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new Error('the local scheduler is closed');
  }

  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #timingOf(schedule: Schedule): ScheduleTiming | undefined {
    try {
      const timing = scheduleTimingOf(schedule);
      this.#checkZone(timing);
      return timing;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      this.#logger.warn('a stored schedule has a timing this scheduler cannot read and is not scheduled', {
        schedule_id: schedule.schedule_id,
        fields: error.issues.map((issue) => issue.field),
        reason: error.message,
      });
      return undefined;
    }
  }

  /** Throws the ValidationError of an unknown time zone (each zone is checked once: the check is slow). */
  #checkZone(timing: ScheduleTiming): void {
    if (this.#checkedZones.has(timing.timezone)) return;
    fireTimesAfter(timing, this.#clock(), 0);
    this.#checkedZones.add(timing.timezone);
  }

  /** From when slots count as missed: the last one fired, else the schedule's last change. */
  #sinceOf(schedule: Schedule, lastFired: string | undefined): Date {
    const times = [parseTimestamp(schedule.updated_at), lastFired ? parseTimestamp(lastFired) : undefined]
      .filter((date): date is Date => date !== undefined)
      .map((date) => date.getTime());
    return new Date(times.length > 0 ? Math.max(...times) : this.#clock().getTime());
  }

  /** The slots after `since` whose fire time is not after `now`. */
  #passedSlots(
    scheduleId: string,
    timing: ScheduleTiming,
    windowMinutes: number,
    since: Date,
    now: Date,
  ): Date[] {
    if (since.getTime() >= now.getTime()) return [];
    const passed: Date[] = [];
    let after = since;
    while (passed.length < MAX_MISSED_COUNT) {
      const batch = fireTimesAfter(timing, after, Math.min(1000, MAX_MISSED_COUNT - passed.length));
      for (const slot of batch) {
        if (slot.getTime() + flexibleWindowOffsetMs(scheduleId, slot, windowMinutes) > now.getTime())
          return passed;
        passed.push(slot);
      }
      const last = batch.at(-1);
      if (!last || batch.length < 1000) return passed;
      after = last;
    }
    return passed;
  }

  /** The first slot after `after` (memoized per batch for schedules sharing a timing). */
  #nextSlot(timing: ScheduleTiming, after: Date): Date | undefined {
    const key = `${timingKey(timing)}|${after.getTime()}`;
    const memo = this.#memo.get(key);
    if (memo !== undefined) return memo ?? undefined;
    const [next] = fireTimesAfter(timing, after, 1);
    this.#memo.set(key, next ?? null);
    return next;
  }

  /**
   * Arms (or re-arms) an entry. `pending` is a slot to fire first (a caught-up missed slot);
   * otherwise an unchanged entry keeps its pending slot and a new one starts after now and after
   * the last slot fired. Returns whether an entry is armed.
   */
  #arm(schedule: Schedule, timing: ScheduleTiming, pending: Date | undefined, now: Date): boolean {
    const scheduleId = schedule.schedule_id;
    const windowMinutes = schedule.flexible_window_minutes ?? 0;
    const key = JSON.stringify([timingKey(timing), windowMinutes, schedule.tenant_id, schedule.account_id]);
    const existing = this.#entries.get(scheduleId);
    if (existing && existing.key === key && pending === undefined) return true;

    let slot = pending;
    if (!slot) {
      const lastFired = this.#lastFired.get(scheduleId);
      const lastMs = lastFired ? (parseTimestamp(lastFired)?.getTime() ?? 0) : 0;
      slot = this.#nextSlot(timing, new Date(Math.max(now.getTime(), lastMs)));
    }
    if (!slot) {
      this.#entries.delete(scheduleId);
      return false;
    }
    const entry: Entry = {
      scheduleId,
      tenantId: schedule.tenant_id,
      accountId: schedule.account_id,
      timing,
      windowMinutes,
      key,
      slot,
      fireAt: slot.getTime() + flexibleWindowOffsetMs(scheduleId, slot, windowMinutes),
      version: (existing?.version ?? 0) + 1,
    };
    this.#entries.set(scheduleId, entry);
    this.#heap.push({ at: entry.fireAt, scheduleId, version: entry.version });
    if (this.#heap.size > 2 * this.#entries.size + 1024) {
      this.#heap.compact((node) => this.#entries.get(node.scheduleId)?.version === node.version);
    }
    return true;
  }

  /** The earliest current heap node (superseded ones are dropped on the way). */
  #peek(): HeapNode | undefined {
    for (;;) {
      const top = this.#heap.peek();
      if (!top) return undefined;
      if (this.#entries.get(top.scheduleId)?.version === top.version) return top;
      this.#heap.pop();
    }
  }

  /**
   * One batch: takes every entry due at `now`, starts them (bounded concurrency), then computes
   * their next slots (slots already passed by then count as missed: the process stalled), writes
   * the state file once and records missed slots.
   */
  async #process(now: Date): Promise<TickReport> {
    const report: TickReport = { fired: 0, alreadyStarted: 0, failed: 0, missed: 0 };
    // Before anything is taken off the heap: without an orchestrator the entries stay armed.
    const orchestrator = this.#orchestrator();
    const due: DueFire[] = [];
    for (;;) {
      const top = this.#peek();
      if (!top || top.at > now.getTime()) break;
      this.#heap.pop();
      const entry = this.#entries.get(top.scheduleId) as Entry;
      due.push({ entry, version: entry.version, slot: entry.slot });
    }
    if (due.length === 0) return report;

    await runConcurrently(due, this.#maxConcurrentStarts, async ({ entry, slot }) => {
      const scheduledTime = toIsoUtc(slot);
      try {
        const handle = await orchestrator.start({
          workflow: 'scan',
          name: scanExecutionName({
            scheduleId: entry.scheduleId,
            accountId: entry.accountId,
            scheduledTime: slot,
            triggeredBy: 'scheduler',
          }),
          input: {
            tenant_id: entry.tenantId,
            account_id: entry.accountId,
            schedule_id: entry.scheduleId,
            scheduled_time: scheduledTime,
            triggered_by: 'scheduler',
          },
        });
        report.fired += 1;
        if (handle.alreadyStarted) report.alreadyStarted += 1;
      } catch (error) {
        report.failed += 1;
        this.#logger.error('could not start the scan of a schedule slot', {
          schedule_id: entry.scheduleId,
          scheduled_time: scheduledTime,
          error: error instanceof DomainError ? { name: error.name, message: error.message } : error,
        });
      }
      this.#lastFired.set(entry.scheduleId, scheduledTime);
      this.#stateDirty = true;
    });

    const missed: Array<{ scheduleId: string; count: number }> = [];
    for (const { entry, version, slot } of due) {
      // Replaced or removed while the starts ran: the new entry already has its own slot.
      if (this.#entries.get(entry.scheduleId) !== entry || entry.version !== version) continue;
      let next = this.#nextSlot(entry.timing, slot);
      let skipped = 0;
      while (
        next &&
        next.getTime() + flexibleWindowOffsetMs(entry.scheduleId, next, entry.windowMinutes) <= now.getTime()
      ) {
        skipped += 1;
        if (skipped >= MAX_MISSED_COUNT) {
          next = this.#nextSlot(entry.timing, now);
          break;
        }
        next = this.#nextSlot(entry.timing, next);
      }
      if (skipped > 0) missed.push({ scheduleId: entry.scheduleId, count: skipped });
      if (!next) {
        // A one-time schedule after its slot, or the end date reached: no entry any more.
        this.#entries.delete(entry.scheduleId);
        continue;
      }
      entry.slot = next;
      entry.fireAt = next.getTime() + flexibleWindowOffsetMs(entry.scheduleId, next, entry.windowMinutes);
      entry.version += 1;
      this.#heap.push({ at: entry.fireAt, scheduleId: entry.scheduleId, version: entry.version });
    }
    this.#memo.clear();

    await this.#flushState();
    report.missed = missed.reduce((sum, item) => sum + item.count, 0);
    await runConcurrently(missed, RECORD_CONCURRENCY, async (item) => {
      this.#logger.warn('schedule slots passed while the scheduler stalled and are reported missed', {
        schedule_id: item.scheduleId,
        count: item.count,
      });
      await this.#recordMissed(item.scheduleId, item.count).catch((error: unknown) =>
        this.#logger.error('could not record missed slots', { schedule_id: item.scheduleId, error }),
      );
    });
    this.#logger.debug('schedule slots fired', { ...report, at: toIsoUtc(now) });
    return report;
  }

  #rearm(): void {
    if (!this.#useTimer || !this.#started || this.#closed) return;
    const top = this.#peek();
    if (!top) {
      this.#clearTimer();
      return;
    }
    if (this.#timer !== undefined && this.#timerAt !== undefined && this.#timerAt <= top.at) return;
    this.#clearTimer();
    const delay = Math.min(Math.max(0, top.at - this.#clock().getTime()), this.#maxTimerDelayMs);
    this.#timerAt = top.at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = undefined;
      // Re-armed inside the queued work, so idle() also covers the next timer.
      void this.#enqueue(async () => {
        try {
          await this.#process(this.#clock());
        } catch (error) {
          this.#logger.error('the local scheduler failed to fire', { error });
        } finally {
          this.#rearm();
        }
      });
    }, delay);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = undefined;
  }

  async #readState(): Promise<StateFile | undefined> {
    let text: string;
    try {
      text = await readFile(this.#stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as Partial<StateFile>;
      if (
        parsed.version !== STATE_VERSION ||
        typeof parsed.last_fired !== 'object' ||
        parsed.last_fired === null
      ) {
        throw new Error(`unexpected state version ${String(parsed.version)}`);
      }
      return {
        version: STATE_VERSION,
        saved_at: String(parsed.saved_at ?? ''),
        last_fired: parsed.last_fired,
      };
    } catch (error) {
      this.#logger.warn('the scheduler state file is unreadable: no slot counts as missed on this start', {
        state_file: this.#stateFile,
        error: (error as Error).message,
      });
      return undefined;
    }
  }

  /** Writes the state file when it changed: a temporary file renamed over it (atomic). */
  async #flushState(): Promise<void> {
    const write = this.#stateWrite.then(async () => {
      if (!this.#stateDirty) return;
      this.#stateDirty = false;
      const state: StateFile = {
        version: STATE_VERSION,
        saved_at: toIsoUtc(this.#clock()),
        last_fired: Object.fromEntries(this.#lastFired),
      };
      const temporary = `${this.#stateFile}.${process.pid}.tmp`;
      try {
        await mkdir(dirname(this.#stateFile), { recursive: true, mode: 0o700 });
        await writeFile(temporary, JSON.stringify(state), { mode: 0o600 });
        await rename(temporary, this.#stateFile);
      } catch (error) {
        this.#stateDirty = true;
        await rm(temporary, { force: true }).catch(() => undefined);
        this.#logger.error('could not write the scheduler state file', {
          state_file: this.#stateFile,
          error,
        });
      }
    });
    this.#stateWrite = write;
    await write;
  }
}

function timingKey(timing: ScheduleTiming): string {
  return [
    timing.expression.expression,
    timing.timezone,
    timing.startDate?.getTime() ?? '',
    timing.endDate?.getTime() ?? '',
    timing.expression.kind === 'rate' ? timing.anchor.getTime() : '',
  ].join('|');
}

function addReport(total: TickReport, part: TickReport): void {
  total.fired += part.fired;
  total.alreadyStarted += part.alreadyStarted;
  total.failed += part.failed;
  total.missed += part.missed;
}
