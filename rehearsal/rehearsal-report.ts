import type { RehearsalReport } from './deploy-rehearsal';

/** Passed: every scenario ran, no request was denied, every unused grant is justified. */
export function rehearsalPassed(report: RehearsalReport): boolean {
  return (
    report.scenarios.every((scenario) => scenario.ok) &&
    report.denied.length === 0 &&
    report.unrecordedCalls === 0 &&
    report.unused.every((grant) => grant.justification !== undefined)
  );
}

/** The report as text: scenarios, per principal its requests and verdicts, denials, unused grants. */
export function formatRehearsalReport(report: RehearsalReport, options: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(
    `Deploy rehearsal of ${report.stackName} (account ${report.account}, ${report.region}) in ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  lines.push('', 'Scenarios:');
  for (const scenario of report.scenarios) {
    lines.push(
      `  ${scenario.ok ? 'ok    ' : 'FAILED'} ${scenario.name}${scenario.failure ? `: ${scenario.failure}` : ''}`,
    );
  }
  const byPrincipal = new Map<string, Map<string, { count: number; verdict: string; detail?: string }>>();
  for (const request of report.requests) {
    const rows = byPrincipal.get(request.principal.name) ?? new Map();
    byPrincipal.set(request.principal.name, rows);
    const key = `${request.request.action} ${request.request.resource}`;
    const row = rows.get(key) ?? { count: 0, verdict: request.evaluation.verdict };
    row.count += 1;
    if (request.evaluation.verdict !== 'Allowed') row.verdict = request.evaluation.verdict;
    if (request.evaluation.detail) row.detail = request.evaluation.detail;
    rows.set(key, row);
  }
  lines.push('', 'Requests by principal (action resource: count verdict):');
  for (const [principal, rows] of [...byPrincipal].sort(([a], [b]) => a.localeCompare(b))) {
    const total = [...rows.values()].reduce((sum, row) => sum + row.count, 0);
    lines.push(`  ${principal} (${total})`);
    for (const [key, row] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`    ${key}: ${row.count} ${row.verdict}${row.detail ? ` (${row.detail})` : ''}`);
    }
  }
  lines.push('', `Denied: ${report.denied.length}`);
  for (const request of report.denied) {
    lines.push(
      `  ${request.principal.name} ${request.request.action} ${request.request.resource} ${JSON.stringify(request.request.context)} in "${request.scenario}": ${request.evaluation.verdict}${request.evaluation.detail ? ` (${request.evaluation.detail})` : ''}`,
    );
  }
  const unjustified = report.unused.filter((grant) => !grant.justification);
  lines.push(
    '',
    `Granted but unused: ${report.unused.length} (${unjustified.length} without a justification)`,
  );
  for (const grant of report.unused) {
    if (grant.justification && !options.verbose) continue;
    lines.push(
      `  ${grant.justification ? 'justified  ' : 'UNJUSTIFIED'} ${grant.principal}: ${grant.action} on ${grant.resource} (${grant.source})${grant.justification && options.verbose ? ` — ${grant.justification}` : ''}`,
    );
  }
  if (!options.verbose && report.unused.length > unjustified.length) {
    lines.push(
      `  (${report.unused.length - unjustified.length} justified in infra/rehearsal-justifications.json; --verbose lists them)`,
    );
  }
  for (const rule of report.staleJustifications) {
    lines.push(
      `  stale justification (matches no unused grant): ${rule.principal} ${rule.action} ${rule.resource}`,
    );
  }
  if (report.unrecordedCalls > 0) {
    lines.push(
      '',
      `UNRECORDED: ${report.unrecordedCalls} requests reached a stand-in without being recorded`,
    );
  }
  const evaluated = report.requests.filter((request) => request.evaluation.verdict !== 'NotEvaluated').length;
  lines.push(
    '',
    `${report.callCount} AWS calls by the functions (${report.standInRequests} of them to stand-ins other than DynamoDB, ${report.unrecordedCalls} unrecorded), ${report.requests.length} IAM requests (${evaluated} evaluated), ${report.denied.length} denied`,
  );
  return lines.join('\n');
}
