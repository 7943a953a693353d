import { runDeployRehearsal } from './deploy-rehearsal';
import { formatRehearsalReport, rehearsalPassed } from './rehearsal-report';
import { rehearsalScenarios } from './scenarios';

const report = await runDeployRehearsal(rehearsalScenarios());
console.log(formatRehearsalReport(report, { verbose: process.argv.includes('--verbose') }));
if (process.env.REHEARSAL_REPORT_FILE) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(process.env.REHEARSAL_REPORT_FILE, JSON.stringify(report, null, 2));
}
process.exitCode = rehearsalPassed(report) ? 0 : 1;
