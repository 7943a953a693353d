import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../cli/main';
import { type AccountFixture, ApiHarness, type TenantFixture } from '../../support/api-harness';
import { ScriptedValidator } from '../../support/scripted-validator';

/**
 * The operator CLI against the real HTTP app and local runtime (no mocked HTTP): each command run
 * in process through runCli with stdout and stderr captured, and the real bin spawned once.
 * `--json` must print exactly what the API answers; human output must carry what an operator
 * needs; errors are one line with the exit code of their kind (2 usage, 3 refused, 4 unreachable).
 */

type Body = Record<string, unknown>;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

let harness: ApiHarness;
let tenant: TenantFixture;
let other: TenantFixture;
let account: AccountFixture;
let bulkAccount: AccountFixture;
/** The only account of its tenant: a tenant scan starts exactly its run (faults hit that run). */
let soloAccount: AccountFixture;
let scheduleId: string;
/** A completed run of `scheduleId`. */
let completedRunId: string;

const V1 = '/api/v1';
const ESCAPE = String.fromCharCode(27);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `threat-engine <args>` in process against the harness, as `token` (default: platform admin). */
async function cli(args: string[], token: string = harness.adminToken): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const capture = (append: (text: string) => void) => (chunk: string | Uint8Array) => {
    append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture((text) => (stdout += text)));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture((text) => (stderr += text)));
  try {
    const code = await runCli(['node', 'threat-engine', '--url', harness.url, '--token', token, ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

async function api<T = Body>(method: string, path: string, token: string = harness.adminToken): Promise<T> {
  const response = await harness.request<T>(method, `${V1}${path}`, { token });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.text}`);
  return response.body;
}

/**
 * Where the fixture schedules start: tomorrow, on the minute. A rate without a start date fires
 * at the first minute after its creation (as on EventBridge Scheduler), so a slot would land while
 * this file runs and change the counters, runs and next fire times the tests read.
 */
const FIXTURE_START = new Date(Math.ceil((Date.now() + 86_400_000) / 60_000) * 60_000).toISOString();

async function createSchedule(accountId: string, name: string): Promise<string> {
  const created = await harness.request<Body>('POST', `${V1}/schedules`, {
    token: tenant.tokens.tenant_admin,
    json: { account_id: accountId, name, schedule_expression: 'rate(1 day)', start_date: FIXTURE_START },
  });
  if (created.status !== 201) throw new Error(`${created.status} ${created.text}`);
  return created.body.schedule_id as string;
}

async function waitForEnd(executionId: string): Promise<Body> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await harness.request<Body>('GET', `${V1}/executions/${executionId}`, {
      token: harness.adminToken,
    });
    // 404 until the workflow has written the record.
    if (response.status === 200 && response.body.status !== 'running') return response.body;
    if (Date.now() > deadline) throw new Error(`execution ${executionId} still running`);
    await sleep(25);
  }
}

/** A scan of the account started now through the API (not bound to a schedule minute). */
async function scanNow(fixture: AccountFixture): Promise<string> {
  const started = await harness.request<{ started: { account_id: string; execution_id: string }[] }>(
    'POST',
    `${V1}/tenants/${fixture.tenant.tenantId}/scans`,
    { token: fixture.tenant.tokens.operator },
  );
  const run = started.body.started.find((scan) => scan.account_id === fixture.accountId);
  if (!run) throw new Error(`no scan started: ${started.text}`);
  return run.execution_id;
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

beforeAll(async () => {
  harness = await ApiHarness.start();
  let solo: TenantFixture;
  [tenant, other, solo] = await Promise.all([
    harness.createTenant(),
    harness.createTenant(),
    harness.createTenant(),
  ]);
  [account, bulkAccount, soloAccount] = await Promise.all([
    harness.activeAccount(tenant),
    harness.activeAccount(tenant),
    harness.activeAccount(solo),
  ]);
  scheduleId = await createSchedule(account.accountId, 'Daily scan');
  const triggered = await api<{ execution_id: string }>(
    'POST',
    `/schedules/${scheduleId}/trigger`,
    tenant.tokens.operator,
  );
  completedRunId = triggered.execution_id;
  await waitForEnd(completedRunId);
}, 90_000);

afterAll(async () => {
  await harness?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('threat-engine health', () => {
  it('prints each dependency and its state; --json prints the health document', async () => {
    // Act
    const human = await cli(['health']);
    const json = await cli(['health', '--json']);

    // Assess
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/dynamodb\s+ok/);
    expect(human.stdout).toMatch(/secret_store\s+ok/);
    expect(json.code).toBe(0);
    const document = JSON.parse(json.stdout);
    const answer = await api<Body>('GET', '/health');
    expect(Object.keys(document.checks)).toEqual(Object.keys(answer.checks as Body));
    expect(document.status).toBe(answer.status);
  });
});

describe('threat-engine tenants', () => {
  it('creates a tenant and lists it; --json is the API answer', async () => {
    // Act
    const created = await cli([
      'tenants',
      'create',
      'Initech CLI',
      '--description',
      'made by the CLI',
      '--json',
    ]);
    const listed = await cli(['tenants', 'list', '--limit', '100', '--json']);
    const human = await cli(['tenants', 'list', '--limit', '100']);

    // Assess
    expect(created.code).toBe(0);
    const tenantView = JSON.parse(created.stdout);
    expect(tenantView).toEqual(await api('GET', `/tenants/${tenantView.tenant_id}`));
    expect(JSON.parse(listed.stdout)).toEqual(await api('GET', '/tenants?limit=100'));
    expect(human.stdout).toContain('Initech CLI');
    expect(human.stdout).toContain(tenantView.tenant_id);
    expect(human.stdout).toMatch(/TENANT ID\s+NAME\s+STATUS\s+CREATED/);
  });
});

describe('threat-engine accounts', () => {
  it("lists and shows the tenant's accounts; --json is the API answer", async () => {
    // Act
    const listed = await cli(['accounts', 'list', '--json'], tenant.tokens.viewer);
    const filtered = await cli([
      'accounts',
      'list',
      '--tenant',
      tenant.tenantId,
      '--provider',
      'aws',
      '--status',
      'active',
    ]);
    const shown = await cli(['accounts', 'show', account.accountId, '--json'], tenant.tokens.viewer);
    const human = await cli(['accounts', 'show', account.accountId], tenant.tokens.viewer);

    // Assess
    expect(JSON.parse(listed.stdout)).toEqual(await api('GET', '/onboarding/accounts', tenant.tokens.viewer));
    expect(filtered.code).toBe(0);
    expect(filtered.stdout).toContain(account.accountId);
    expect(filtered.stdout).toContain(bulkAccount.accountId);
    expect(JSON.parse(shown.stdout)).toEqual(
      await api('GET', `/onboarding/accounts/${account.accountId}`, tenant.tokens.viewer),
    );
    expect(human.stdout).toMatch(/status:\s+active/);
    expect(human.stdout).toMatch(/credentials:\s+current/);
  });

  it("validates the account's credentials and waits for the answer", async () => {
    // Act
    const human = await cli(['accounts', 'validate', account.accountId], tenant.tokens.operator);
    const json = await cli(['accounts', 'validate', account.accountId, '--json'], tenant.tokens.operator);

    // Assess
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(human.stdout).toContain(`the credentials of account ${account.accountId} are valid`);
    expect(json.code).toBe(0);
    const document = JSON.parse(json.stdout);
    expect(document).toMatchObject({ success: true, account_id: account.accountId, status: 'active' });
    const workflow = await api<Body>(
      'GET',
      `/onboarding/executions/${document.execution_id}`,
      tenant.tokens.viewer,
    );
    expect(workflow).toMatchObject({ workflow: 'validation', status: 'SUCCEEDED' });
  });
});

describe('threat-engine accounts validate, when the provider refuses', () => {
  it("prints the reason and exits 1; --json prints the API's refusal", async () => {
    // Prepare: a runtime whose provider check answers as told
    const validator = new ScriptedValidator();
    const refusing = await ApiHarness.start({ validator });
    try {
      const refusingTenant = await refusing.createTenant();
      const refused = await refusing.activeAccount(refusingTenant);
      validator.rejectNext('invalid_credentials', 2);
      const run = (args: string[]) =>
        runCapture(['--url', refusing.url, '--token', refusingTenant.tokens.operator, ...args]);

      // Act
      const human = await run(['accounts', 'validate', refused.accountId]);
      const json = await run(['accounts', 'validate', refused.accountId, '--json']);

      // Assess
      expect(human).toMatchObject({ code: 1, stderr: '' });
      expect(human.stdout).toContain(`the credentials of account ${refused.accountId} did not validate`);
      expect(human.stdout).toContain('invalid_credentials');
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ success: false, account_id: refused.accountId });
    } finally {
      await refusing.close();
    }
  }, 60_000);
});

describe('threat-engine schedules', () => {
  it('creates, lists, shows (next fire times, recent runs, counters), triggers and deletes', async () => {
    // Act
    const created = await cli(
      [
        'schedules',
        'create',
        '--account',
        account.accountId,
        '--name',
        'Monthly from the CLI',
        '--preset',
        'monthly',
        '--regions',
        'us-east-1,eu-west-1',
        '--json',
      ],
      tenant.tokens.tenant_admin,
    );
    const id = JSON.parse(created.stdout).schedule_id as string;
    const listed = await cli(
      ['schedules', 'list', '--account', account.accountId, '--json'],
      tenant.tokens.viewer,
    );
    const listedByApi = await api('GET', `/schedules?account_id=${account.accountId}`, tenant.tokens.viewer);
    const listedHuman = await cli(['schedules', 'list', '--status', 'active'], tenant.tokens.viewer);
    const shown = await cli(['schedules', 'show', scheduleId, '--json'], tenant.tokens.viewer);
    const shownByApi = await api('GET', `/schedules/${scheduleId}`, tenant.tokens.viewer);
    const shownHuman = await cli(['schedules', 'show', scheduleId], tenant.tokens.viewer);
    const triggered = await cli(['schedules', 'trigger', id, '--json'], tenant.tokens.operator);
    const run = JSON.parse(triggered.stdout);
    await waitForEnd(run.execution_id);
    const deleted = await cli(['schedules', 'delete', id], tenant.tokens.tenant_admin);
    const gone = await cli(['schedules', 'show', id], tenant.tokens.viewer);

    // Assess
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      name: 'Monthly from the CLI',
      schedule_expression: 'cron(0 0 1 * ? *)',
      regions: ['us-east-1', 'eu-west-1'],
    });
    expect(JSON.parse(listed.stdout)).toEqual(listedByApi);
    expect(listedHuman.stdout).toContain('Monthly from the CLI');
    expect(listedHuman.stdout).toContain('cron(0 0 1 * ? *)');
    const details = JSON.parse(shown.stdout);
    expect(details).toEqual(shownByApi);
    expect(details.next_fire_times).toEqual(
      [0, 1, 2, 3, 4].map((day) => new Date(Date.parse(FIXTURE_START) + day * 86_400_000).toISOString()),
    );
    expect(shownHuman.stdout).toContain('Next fire times');
    for (const time of details.next_fire_times as string[]) {
      expect(shownHuman.stdout).toContain(time.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'));
    }
    expect(shownHuman.stdout).toContain('Recent runs');
    expect(shownHuman.stdout).toContain(completedRunId);
    expect(shownHuman.stdout).toMatch(/counters:\s+runs 1, successes 1, failures 0/);
    expect(triggered.code).toBe(0);
    expect(run).toMatchObject({ status: 'triggered', schedule_id: id });
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted schedule ${id}\n` });
    expect(gone.code).toBe(3);
  });

  it('pauses and resumes every schedule of an account in bulk, with the note, and of a tenant', async () => {
    // Prepare
    const ids = await Promise.all(
      ['Bulk one', 'Bulk two', 'Bulk three'].map((name) => createSchedule(bulkAccount.accountId, name)),
    );

    // Act
    const paused = await cli(
      ['schedules', 'pause', '--account', bulkAccount.accountId, '--note', 'maintenance window'],
      tenant.tokens.operator,
    );
    const afterPause = await Promise.all(ids.map((id) => api<Body>('GET', `/schedules/${id}`)));
    const resumedJson = await cli(
      ['schedules', 'resume', '--account', bulkAccount.accountId, '--json'],
      tenant.tokens.operator,
    );
    const afterResume = await Promise.all(ids.map((id) => api<Body>('GET', `/schedules/${id}`)));
    const tenantPause = await cli(
      ['schedules', 'pause', '--tenant', tenant.tenantId, '--json'],
      tenant.tokens.operator,
    );
    const tenantResume = await cli(
      ['schedules', 'resume', '--tenant', tenant.tenantId],
      tenant.tokens.operator,
    );

    // Assess
    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain('3 paused');
    for (const id of ids) expect(paused.stdout).toContain(id);
    expect(afterPause.map((schedule) => [schedule.status, schedule.pause_note])).toEqual(
      ids.map(() => ['paused', 'maintenance window']),
    );
    const resumed = JSON.parse(resumedJson.stdout);
    expect(resumed.failed).toEqual([]);
    expect(resumed.schedules.map((schedule: Body) => schedule.schedule_id).sort()).toEqual([...ids].sort());
    expect(afterResume.map((schedule) => schedule.status)).toEqual(['active', 'active', 'active']);
    const tenantWide = JSON.parse(tenantPause.stdout).schedules.map((schedule: Body) => schedule.schedule_id);
    expect(tenantWide).toEqual(expect.arrayContaining([...ids, scheduleId]));
    expect(tenantResume.stdout).toContain(`${tenantWide.length} resumed`);
    expect((await api<Body>('GET', `/schedules/${scheduleId}`)).status).toBe('active');
  });

  it('pauses the schedules named by id and reports one that is not found', async () => {
    // Prepare
    const id = await createSchedule(bulkAccount.accountId, 'Named');

    // Act
    const single = await cli(['schedules', 'pause', id, '--json'], tenant.tokens.operator);
    const mixed = await cli(
      ['schedules', 'resume', id, '00000000-0000-4000-8000-000000000000'],
      tenant.tokens.operator,
    );
    const neither = await cli(['schedules', 'pause'], tenant.tokens.operator);

    // Assess
    expect(JSON.parse(single.stdout)).toMatchObject({ schedule_id: id, status: 'paused' });
    expect(mixed.code).toBe(3);
    expect(mixed.stdout).toContain('1 resumed, 1 failed');
    expect(mixed.stdout).toMatch(/00000000-0000-4000-8000-000000000000.*404/);
    expect(neither.code).toBe(2);
    expect(lines(neither.stderr)).toHaveLength(1);
  });
});

describe('threat-engine executions', () => {
  it('lists the runs of a schedule, an account and a tenant, by status; --json is the API answer', async () => {
    // Act
    const bySchedule = await cli(
      ['executions', 'list', '--schedule', scheduleId, '--json'],
      tenant.tokens.viewer,
    );
    const byAccount = await cli(
      ['executions', 'list', '--account', account.accountId, '--limit', '2', '--json'],
      tenant.tokens.viewer,
    );
    const byTenantAll = await cli(
      ['executions', 'list', '--tenant', tenant.tenantId, '--json'],
      tenant.tokens.viewer,
    );
    const byTenant = await cli(
      ['executions', 'list', '--tenant', tenant.tenantId, '--status', 'completed', '--json'],
      tenant.tokens.viewer,
    );
    const human = await cli(['executions', 'list', '--tenant', tenant.tenantId], tenant.tokens.viewer);
    const ofToken = await cli(['executions', 'list', '--json'], tenant.tokens.viewer);

    // Assess
    expect(JSON.parse(ofToken.stdout)).toEqual(JSON.parse(byTenantAll.stdout));
    expect(JSON.parse(bySchedule.stdout)).toEqual(
      await api('GET', `/schedules/${scheduleId}/executions`, tenant.tokens.viewer),
    );
    expect(JSON.parse(byAccount.stdout)).toEqual(
      await api('GET', `/accounts/${account.accountId}/executions?limit=2`, tenant.tokens.viewer),
    );
    expect(JSON.parse(byTenant.stdout)).toEqual(
      await api('GET', `/tenants/${tenant.tenantId}/executions?status=completed`, tenant.tokens.viewer),
    );
    expect(human.stdout).toMatch(/EXECUTION ID\s+STATUS\s+ACCOUNT/);
    expect(human.stdout).toContain(completedRunId);
    expect(human.stdout).toContain('completed');
  });

  it('shows a run; --json is GET /executions/{id}', async () => {
    // Act
    const json = await cli(['executions', 'show', completedRunId, '--json'], tenant.tokens.viewer);
    const human = await cli(['executions', 'show', completedRunId], tenant.tokens.viewer);

    // Assess
    expect(JSON.parse(json.stdout)).toEqual(
      await api('GET', `/executions/${completedRunId}`, tenant.tokens.viewer),
    );
    expect(human.stdout).toMatch(/status:\s+completed/);
    expect(human.stdout).toMatch(/checks:\s+\d+ total/);
    expect(human.stdout).toContain(scheduleId);
  });

  it("prints the run's timeline with every state it entered; --json is the history", async () => {
    // Act
    const human = await cli(['executions', 'history', completedRunId], tenant.tokens.viewer);
    const json = await cli(['executions', 'history', completedRunId, '--json'], tenant.tokens.viewer);

    // Assess
    const history = await api<{ events: { type: string; stateName?: string }[] }>(
      'GET',
      `/executions/${completedRunId}/history?limit=1000`,
      tenant.tokens.viewer,
    );
    expect(JSON.parse(json.stdout)).toEqual(history);
    const entered = history.events.filter((event) => event.type.endsWith('StateEntered'));
    expect(entered.length).toBeGreaterThan(3);
    for (const event of entered) expect(human.stdout).toContain(event.stateName);
    expect(human.stdout).toMatch(/STATE\s+TYPE\s+STARTED \(UTC\)\s+DURATION\s+RETRIES\s+OUTCOME/);
    expect(human.stdout).toMatch(/workflow status:\s+succeeded/);
    expect(human.code).toBe(0);
  });

  it('--follow streams a succeeding run to its end and exits 0', async () => {
    // Prepare
    const executionId = await scanNow(soloAccount);

    // Act
    const followed = await cli(
      ['executions', 'history', executionId, '--follow', '--interval', '20'],
      soloAccount.tenant.tokens.viewer,
    );

    // Assess
    expect(followed).toMatchObject({ code: 0, stderr: '' });
    expect(followed.stdout).toContain('ExecutionStarted');
    expect(followed.stdout).toContain('ExecutionSucceeded');
    expect(followed.stdout).toMatch(/run:\s+completed/);
    expect((await api<Body>('GET', `/executions/${executionId}`)).status).toBe('completed');
  });

  it('--follow streams a failing run to its end, shows the error and cause, and exits 1; the run can be redriven', async () => {
    // Prepare
    harness.runtime.simulator?.failNext(1, { kind: 'http-error', status: 400 });
    const executionId = await scanNow(soloAccount);

    // Act
    const followed = await cli(
      ['executions', 'history', executionId, '--follow', '--interval', '20'],
      soloAccount.tenant.tokens.viewer,
    );
    const failedList = await cli(
      ['executions', 'list', '--account', soloAccount.accountId, '--status', 'failed'],
      soloAccount.tenant.tokens.viewer,
    );
    const redriven = await cli(
      ['executions', 'redrive', executionId, '--json'],
      soloAccount.tenant.tokens.operator,
    );

    // Assess
    expect(followed).toMatchObject({ code: 1, stderr: '' });
    expect(followed.stdout).toMatch(/run:\s+failed/);
    expect(followed.stdout).toMatch(/failed in .+: /);
    expect(followed.stdout).toContain('cause:');
    expect(failedList.stdout).toContain(executionId);
    expect(redriven.code).toBe(0);
    const redrive = JSON.parse(redriven.stdout);
    expect(redrive).toMatchObject({ status: 'redriven', redrive_of: executionId });
    await waitForEnd(redrive.execution_id);
    expect((await api<Body>('GET', `/executions/${executionId}`)).redriven_by).toBe(redrive.execution_id);
  });

  it('cancels a running run; --follow then exits 1', async () => {
    // Prepare
    harness.runtime.simulator?.failNext(1, { kind: 'slow', delayMs: 4_000 });
    const executionId = await scanNow(soloAccount);
    while ((harness.runtime.simulator?.pendingFaults('scan') ?? 0) > 0) await sleep(10);

    // Act
    const cancelled = await cli(['executions', 'cancel', executionId], soloAccount.tenant.tokens.operator);
    const followed = await cli(
      ['executions', 'history', executionId, '--follow', '--interval', '20'],
      soloAccount.tenant.tokens.viewer,
    );

    // Assess
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain(`cancel requested for execution ${executionId}`);
    expect(followed).toMatchObject({ code: 1, stderr: '' });
    expect(followed.stdout).toMatch(/run:\s+cancelled/);
  });
});

describe('threat-engine scan-results and scheduler', () => {
  it("lists an account's scan results; --json is the API answer", async () => {
    // Act
    const json = await cli(
      ['scan-results', 'list', '--account', account.accountId, '--json'],
      tenant.tokens.viewer,
    );
    const human = await cli(['scan-results', 'list', '--account', account.accountId], tenant.tokens.viewer);

    // Assess
    const answer = await api<{ scan_results: { scan_id: string }[] }>(
      'GET',
      `/accounts/${account.accountId}/scan-results`,
      tenant.tokens.viewer,
    );
    expect(JSON.parse(json.stdout)).toEqual(answer);
    expect(answer.scan_results.length).toBeGreaterThan(0);
    for (const result of answer.scan_results) expect(human.stdout).toContain(result.scan_id);
  });

  it('reconciles the scheduler entries (dry run) and reports every entry matching', async () => {
    // Act
    const json = await cli(['scheduler', 'reconcile', '--dry-run', '--json']);
    const human = await cli(['scheduler', 'reconcile', '--dry-run']);

    // Assess
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      dry_run: true,
      created: [],
      updated: [],
      deleted: [],
      failed: [],
    });
    expect(human.stdout).toContain('every scheduler entry matches its schedule');
    expect(human.stdout).toMatch(/dry run: 0 created, 0 updated, 0 deleted, \d+ unchanged/);
  });
});

describe('errors and help', () => {
  it('answers an unknown or malformed id and another tenant with one line and exit 3', async () => {
    // Act
    const unknown = await cli(
      ['executions', 'show', '00000000-0000-4000-8000-000000000000'],
      tenant.tokens.viewer,
    );
    const malformed = await cli(['schedules', 'show', 'not an id!'], tenant.tokens.viewer);
    const foreign = await cli(['accounts', 'show', account.accountId], other.tokens.viewer);
    const foreignRuns = await cli(['executions', 'list', '--tenant', tenant.tenantId], other.tokens.viewer);

    // Assess
    for (const run of [unknown, malformed, foreign, foreignRuns]) {
      expect(run.code).toBe(3);
      expect(run.stdout).toBe('');
      expect(lines(run.stderr)).toHaveLength(1);
      expect(run.stderr).toMatch(/^threat-engine: /);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    expect(unknown.stderr).toContain('execution 00000000-0000-4000-8000-000000000000 was not found');
    expect(malformed.stderr).toContain('400');
    expect(foreign.stderr).toContain('404');
  });

  it('answers a bad token and a role too weak with one line and exit 3', async () => {
    // Act
    const badToken = await cli(['tenants', 'list'], 'not-a-token');
    const weak = await cli(['schedules', 'pause', scheduleId], tenant.tokens.viewer);

    // Assess
    expect(badToken.code).toBe(3);
    expect(lines(badToken.stderr)).toEqual([expect.stringContaining('401')]);
    expect(weak.code).toBe(3);
    expect(lines(weak.stderr)).toEqual([expect.stringContaining('403')]);
  });

  it('answers an API that cannot be reached with one line and exit 4', async () => {
    // Prepare: a port that was free a moment ago
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));

    // Act
    const run = await runCapture(['--url', `http://127.0.0.1:${port}`, '--token', 'x', 'tenants', 'list']);

    // Assess
    expect(run.code).toBe(4);
    expect(lines(run.stderr)).toEqual([
      expect.stringContaining(`cannot reach the API at http://127.0.0.1:${port}`),
    ]);
  });

  it('answers usage errors with exit 2 and prints help on every level', async () => {
    // Act
    const unknownOption = await cli(['executions', 'list', '--colour']);
    const noScope = await cli(['executions', 'list']);
    const badLimit = await cli(['executions', 'list', '--tenant', tenant.tenantId, '--limit', '500']);
    const helps = await Promise.all([
      cli(['--help']),
      cli(['executions', '--help']),
      cli(['executions', 'history', '--help']),
      cli(['schedules', 'pause', '--help']),
    ]);

    // Assess
    expect([unknownOption.code, noScope.code, badLimit.code]).toEqual([2, 2, 2]);
    expect(helps.map((help) => help.code)).toEqual([0, 0, 0, 0]);
    expect(helps[0]?.stdout).toContain('executions');
    expect(helps[1]?.stdout).toContain('history');
    expect(helps[2]?.stdout).toContain('--follow');
    expect(helps[3]?.stdout).toContain('--account');
  });
});

describe('colour', () => {
  it('colours statuses on a terminal only, and never with NO_COLOR', async () => {
    // Prepare
    const wasTty = process.stdout.isTTY;
    const noColor = process.env.NO_COLOR;
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    try {
      // Act
      delete process.env.NO_COLOR;
      const coloured = await cli(['executions', 'list', '--schedule', scheduleId], tenant.tokens.viewer);
      process.env.NO_COLOR = '1';
      const plain = await cli(['executions', 'list', '--schedule', scheduleId], tenant.tokens.viewer);

      // Assess
      expect(coloured.stdout).toContain(`${ESCAPE}[32mcompleted`);
      expect(plain.stdout).toContain('completed');
      expect(plain.stdout).not.toContain(ESCAPE);
    } finally {
      Object.defineProperty(process.stdout, 'isTTY', { value: wasTty, configurable: true });
      if (noColor === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = noColor;
    }
  });
});

/** runCli with the given argv only (no --url/--token added). */
async function runCapture(args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await runCli(['node', 'threat-engine', ...args]), stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('the threat-engine bin', () => {
  const execFileAsync = promisify(execFile);

  it('runs as a process: JSON equal to the API, no colour when piped, exit codes of the process', async () => {
    // Act
    const env = { ...process.env, THREAT_ENGINE_TOKEN: soloAccount.tenant.tokens.viewer, FORCE_COLOR: '0' };
    const listed = await execFileAsync(
      process.execPath,
      [
        'bin/threat-engine.mjs',
        '--url',
        harness.url,
        'executions',
        'list',
        '--tenant',
        soloAccount.tenant.tenantId,
        '--json',
      ],
      { env },
    );
    const human = await execFileAsync(
      process.execPath,
      [
        'bin/threat-engine.mjs',
        '--url',
        harness.url,
        'executions',
        'list',
        '--tenant',
        soloAccount.tenant.tenantId,
      ],
      { env },
    );
    const refused = await execFileAsync(
      process.execPath,
      ['bin/threat-engine.mjs', '--url', harness.url, '--token', 'nope', 'tenants', 'list'],
      { env },
    ).catch((error: { code: number; stderr: string }) => error);

    // Assess
    expect(JSON.parse(listed.stdout)).toEqual(
      await api(
        'GET',
        `/tenants/${soloAccount.tenant.tenantId}/executions`,
        soloAccount.tenant.tokens.viewer,
      ),
    );
    const [newest] = JSON.parse(listed.stdout).executions as Body[];
    expect(human.stdout).toContain(newest?.execution_id);
    expect(human.stdout).not.toContain(ESCAPE);
    expect(refused).toMatchObject({ code: 3 });
    expect(lines((refused as { stderr: string }).stderr)).toHaveLength(1);
  }, 60_000);
});
