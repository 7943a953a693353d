import { runSchedulerBenchmark } from './local-scheduler-bench';

/**
 * The scheduler bench in a fresh process (forked by bench/main.ts), so its memory and timing are
 * the scheduler's alone, not those of the benches that ran before it. Progress and the result go
 * back over IPC.
 */
const schedules = Number(process.argv[2]);
const result = await runSchedulerBenchmark({
  schedules,
  onWritten: (written) => process.send?.({ written }),
  onLoaded: () => process.send?.({ loaded: true }),
});
process.send?.({ result }, () => process.exit(0));
