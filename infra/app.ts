import { createThreatEngineApp } from './create-threat-engine-app';

// Entry point of `cdk synth` / `cdk deploy` (see cdk.json); the CLI synthesizes on exit.
createThreatEngineApp();
