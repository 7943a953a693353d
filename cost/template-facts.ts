import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXECUTION_TERMINATED_TASK, TASKS } from '../functions/tasks/task-catalog';
import { PROJECT_ROOT } from '../infra/constructs/functions';
import { createThreatEngineApp } from '../infra/create-threat-engine-app';
import type { TemplateFacts } from './cost-model';

interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/** The construct id functions.ts gives a task's function (`claim-scan.ts` → `ClaimScanFunction`). */
function functionIdOf(entry: string): string {
  return `${entry
    .replace(/\.ts$/, '')
    .split('-')
    .map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
    .join('')}Function`;
}

/** What the bill depends on in a synthesized template (its CloudFormation resources). */
export function factsOfTemplate(resources: Record<string, TemplateResource>): TemplateFacts {
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const functions = ofType('AWS::Lambda::Function');
  const memoryOf = (constructId: string) => {
    const found = functions.find(([logicalId]) => logicalId.startsWith(`Functions${constructId}`));
    return Number(found?.[1].Properties?.MemorySize ?? 128);
  };
  const functionMemoryMb: Record<string, number> = { ApiFunction: memoryOf('ApiFunction') };
  for (const task of [...TASKS, EXECUTION_TERMINATED_TASK]) {
    functionMemoryMb[task.token] = memoryOf(functionIdOf(task.entry));
  }
  const retention = ofType('AWS::Logs::LogGroup').map(([, group]) =>
    Number(group.Properties?.RetentionInDays ?? 0),
  );
  return {
    functionMemoryMb,
    alarms: ofType('AWS::CloudWatch::Alarm').length,
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    kmsKeys: ofType('AWS::KMS::Key').length,
    // A log group without retention keeps its logs forever: counted as a year.
    logRetentionDays: retention.length > 0 ? Math.max(...retention.map((days) => days || 365)) : 365,
  };
}

/**
 * Synthesizes the app as `cdk synth` would (cdk.json context, the `-c` overrides given) without
 * bundling the functions (the template is the same apart from asset hashes) and reads its facts.
 */
export function synthesizedTemplateFacts(contextOverrides: Record<string, string>): TemplateFacts {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const outdir = mkdtempSync(join(tmpdir(), 'threat-engine-cost-'));
  try {
    const built = createThreatEngineApp({
      outdir,
      context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...contextOverrides },
    });
    const assembly = built.app.synth();
    const template = assembly.getStackArtifact(built.stack.artifactId).template as {
      Resources: Record<string, TemplateResource>;
    };
    return factsOfTemplate(template.Resources);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
