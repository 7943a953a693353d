import { runScanBenchmark, type ScanBenchmarkOptions } from './scan-bench';

/**
 * The scan bench in a fresh process (forked by bench/main.ts), so the parts after it (the API
 * bench's runtime runs in bench/main.ts's process) do not inherit its heap. The result goes back
 * over IPC.
 */
const options = JSON.parse(process.argv[2] ?? '{}') as ScanBenchmarkOptions;
const result = await runScanBenchmark(options);
process.send?.({ result }, () => process.exit(0));
