#!/usr/bin/env node
// The operator command line. Runs the TypeScript sources through tsx, so a checkout needs no build.
import { register } from 'tsx/esm/api';

register();
// Output piped into a reader that stopped early (`| head`): end quietly, as other CLIs do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
await import('../local/polyfills.ts');
const { runCli } = await import('../cli/main.ts');
process.exitCode = await runCli(process.argv);
