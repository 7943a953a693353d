import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { environmentFromContext, type ThreatEngineEnvironment } from './environment';
import { ThreatEngineStack } from './threat-engine-stack';

export interface ThreatEngineApp {
  readonly app: App;
  readonly stack: ThreatEngineStack;
  readonly environment: ThreatEngineEnvironment;
  /** The cdk-nag pack registered on the app (tests call `validateScope` on it). */
  readonly nag: AwsSolutionsChecks;
}

/**
 * The CDK app: reads the selected environment from context, instantiates the stack
 * (`ThreatEngine-{envName}`) and registers the cdk-nag AwsSolutions checks, which run at synth
 * and fail it on any unacknowledged finding.
 */
export function createThreatEngineApp(props: AppProps = {}): ThreatEngineApp {
  const app = new App(props);
  const environment = environmentFromContext(app);
  const stack = new ThreatEngineStack(app, `ThreatEngine-${environment.envName}`, {
    environment,
    description: `Threat engine orchestrator (${environment.envName}): onboarding, validation and scan workflows, API, scheduling`,
    ...(environment.account || environment.region
      ? { env: { account: environment.account, region: environment.region } }
      : {}),
  });
  Tags.of(stack).add('application', 'threat-engine');
  Tags.of(stack).add('environment', environment.envName);
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(nag);
  return { app, stack, environment, nag };
}
