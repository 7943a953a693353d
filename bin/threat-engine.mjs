#!/usr/bin/env node
// The operator command line. Runs the TypeScript sources through tsx, so a checkout needs no build.
import { register } from 'tsx/esm/api';

register();
await import('../local/polyfills.ts');
const { runCli } = await import('../cli/main.ts');
process.exitCode = await runCli(process.argv);
