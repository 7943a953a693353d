import { createThreatEngineApp } from './create-threat-engine-app';
import { EnvironmentContextError } from './environment';

// Entry point of `cdk synth` / `cdk deploy` (see cdk.json); the CLI synthesizes on exit.
try {
  createThreatEngineApp();
} catch (error) {
  // A wrong setting is the operator's to fix: its message, not a stack trace.
  if (!(error instanceof EnvironmentContextError)) throw error;
  console.error(error.message);
  process.exit(1);
}
