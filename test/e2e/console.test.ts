import { createHash, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, startTomorrow, type TenantFixture } from '../support/api-harness';
import { launchChromium } from '../support/chromium';

/**
 * The operator console in a real headless Chromium (Debian's package, driven by playwright-core)
 * against the local runtime: sign-in through the URL `npm start` prints, the Runs, Run, Schedules
 * and Accounts pages, live updates, actions changing what the API reports, a viewer without
 * actions, no console error or failed request on any page, no serious accessibility violation.
 */

const V1 = '/api/v1';
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'console');
const ACTION_BUTTONS =
  /^(Cancel run|Redrive run|Pause|Resume|Trigger now|Re-validate|Pause selected|Resume selected)/;

let harness: ApiHarness;
let browser: Browser;
let tenant: TenantFixture;
let succeededRun: string;
let failedRun: string;
let schedules: string[];

interface PageProblems {
  consoleErrors: string[];
  failedRequests: string[];
}

async function openPage(context: BrowserContext): Promise<{ page: Page; problems: PageProblems }> {
  const page = await context.newPage();
  const problems: PageProblems = { consoleErrors: [], failedRequests: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') problems.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => problems.consoleErrors.push(error.message));
  page.on('requestfailed', (request) => problems.failedRequests.push(`${request.method()} ${request.url()}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.failedRequests.push(`${response.status()} ${response.url()}`);
  });
  return { page, problems };
}

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.length})`);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function api<Body = Record<string, unknown>>(method: string, path: string, token = harness.adminToken) {
  const response = await harness.request<Body>(method, `${V1}${path}`, { token });
  return response;
}

async function createSchedule(accountId: string, name: string, expression: string): Promise<string> {
  const created = await harness.request<{ schedule_id: string }>('POST', `${V1}/schedules`, {
    token: tenant.tokens.tenant_admin,
    json: {
      account_id: accountId,
      name,
      schedule_expression: expression,
      timezone: 'Europe/Paris',
      start_date: startTomorrow(),
    },
  });
  if (created.status !== 201) throw new Error(`schedule: ${created.status} ${created.text}`);
  return created.body.schedule_id;
}

async function trigger(scheduleId: string): Promise<string> {
  const answer = await api<{ execution_id: string }>('POST', `/schedules/${scheduleId}/trigger`);
  if (answer.status !== 202) throw new Error(`trigger: ${answer.status} ${answer.text}`);
  return answer.body.execution_id;
}

async function waitUntilFinished(executionId: string): Promise<string> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const view = await api<{ status: string }>('GET', `/executions/${executionId}`);
    if (view.status === 200 && view.body.status !== 'running') return view.body.status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`execution ${executionId} still running`);
}

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  [harness, browser] = await Promise.all([ApiHarness.start(), launchChromium()]);
  tenant = await harness.createTenant('Acme Security');
  const accounts = await Promise.all([1, 2, 3].map(() => harness.activeAccount(tenant)));
  schedules = await Promise.all([
    createSchedule(accounts[0]?.accountId ?? '', 'Weekday morning scan', 'cron(0 6 ? * MON-FRI *)'),
    createSchedule(accounts[1]?.accountId ?? '', 'Hourly scan', 'rate(1 hour)'),
    createSchedule(accounts[2]?.accountId ?? '', 'Nightly scan', 'cron(30 2 * * ? *)'),
  ]);
  succeededRun = await trigger(schedules[0] as string);
  expect(await waitUntilFinished(succeededRun)).toBe('completed');
  harness.runtime.simulator?.failNext(1, { kind: 'http-error', status: 400 });
  failedRun = await trigger(schedules[1] as string);
  expect(await waitUntilFinished(failedRun)).toBe('failed');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

describe('Operator console', () => {
  it('signs in through the printed URL, lists a succeeded and a failed run, and shows the failed run as a graph with its error', async () => {
    // Prepare
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, problems } = await openPage(context);

    // Act: the URL `npm start` prints
    await page.goto(harness.runtime.consoleSignInUrl);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    const rows = page.locator('table.runs tbody tr');
    await rows.first().waitFor();

    // Assess: signed in, the token gone from the address bar, both runs listed
    expect(page.url()).not.toContain('token=');
    expect(await page.evaluate('sessionStorage.getItem("threat-engine.token")')).toBeTruthy();
    await expect.poll(() => page.locator('tr[data-status="completed"]').count()).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.locator('tr[data-status="failed"]').count()).toBeGreaterThanOrEqual(1);
    await screenshot(page, 'runs');
    expect(await seriousViolations(page)).toEqual([]);

    // Act: open the failed run
    await page.locator('tr[data-status="failed"] a').first().click();
    await page.locator('.run-graph .node').first().waitFor();

    // Assess: a node per state of the definition, every state it entered listed, the failed state's error
    const definition = await api<{ definition: { States: Record<string, unknown> } }>(
      'GET',
      '/workflows/scan/definition',
    );
    const stateNames = Object.keys(definition.body.definition.States);
    expect(await page.locator('.run-graph .node').count()).toBe(stateNames.length);
    const history = await api<{ events: Array<{ type: string; stateName?: string; error?: string }> }>(
      'GET',
      `/executions/${failedRun}/history?limit=1000`,
    );
    const entered = [
      ...new Set(
        history.body.events
          .filter((event) => event.type.endsWith('StateEntered'))
          .map((event) => event.stateName as string),
      ),
    ];
    expect(entered.length).toBeGreaterThan(2);
    const listed = await page.locator('.detail-panel .state-details .state-name').allTextContents();
    expect(listed).toEqual(entered);
    const failure = history.body.events.find((event) => event.type === 'TaskFailed' && event.error);
    expect(failure?.error).toBeTruthy();
    await expect.poll(() => page.locator('.failure .failed-error').textContent()).toBe(failure?.error);
    expect(
      await page.locator(`.run-graph .node[data-state="${failure?.stateName}"]`).getAttribute('data-outcome'),
    ).toMatch(/failed|caught/);
    expect(await page.locator('.run-graph .node[data-outcome="not_reached"]').count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByRole('button', { name: 'Redrive run' }).count()).toBe(1);
    await screenshot(page, 'run-failed');
    expect(await seriousViolations(page)).toEqual([]);

    // Act: the two-click path from a failing schedule
    await page.getByRole('link', { name: 'Schedules' }).click();
    await page.locator(`tr[data-schedule="${schedules[1]}"] .run-dot.failing`).first().click();
    await page.locator('.failure .failed-error').waitFor();

    // Assess
    expect(await page.locator('.failure .failed-error').textContent()).toBe(failure?.error);
    expect(problems).toEqual({ consoleErrors: [], failedRequests: [] });
    await context.close();
  });

  it('updates a running run without a reload until it completes', async () => {
    // Prepare: the engine answers the scan start after 8 s (room for a loaded machine to show the page first)
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, problems } = await openPage(context);
    await page.goto(harness.runtime.consoleSignInUrl);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    harness.runtime.simulator?.failNext(1, { kind: 'slow', delayMs: 8_000 });
    const running = await trigger(schedules[2] as string);
    await expect.poll(async () => (await api('GET', `/executions/${running}`)).status).toBe(200);

    // Act
    await page.goto(`${harness.url}/console#/runs/${running}`);
    await page.locator('.run-graph .node[data-outcome="running"]').waitFor();
    await screenshot(page, 'run-running');
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));

    // Assess: the badge turns completed, the page never reloaded
    await page.locator('h1 .badge.status-completed').waitFor({ timeout: 20_000 });
    expect(await page.locator('.run-graph .node[data-outcome="running"]').count()).toBe(0);
    expect(navigations).toEqual([]);
    expect(problems).toEqual({ consoleErrors: [], failedRequests: [] });
    await context.close();
  }, 45_000);

  it('pauses one schedule, then bulk-pauses and bulk-resumes several, as the API then reports', async () => {
    // Prepare
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, problems } = await openPage(context);
    await page.goto(harness.runtime.consoleSignInUrl);
    await page.getByRole('link', { name: 'Schedules' }).click();
    await page.locator(`tr[data-schedule="${schedules[0]}"]`).waitFor();
    await screenshot(page, 'schedules');
    expect(await seriousViolations(page)).toEqual([]);

    // Act: pause one with a note
    await page.getByLabel('Pause note').fill('maintenance window');
    await page.getByRole('button', { name: 'Pause Weekday morning scan' }).click();
    await page.locator(`tr[data-schedule="${schedules[0]}"][data-status="paused"]`).waitFor();

    // Assess
    const paused = await api<{ status: string; pause_note: string }>('GET', `/schedules/${schedules[0]}`);
    expect(paused.body).toMatchObject({ status: 'paused', pause_note: 'maintenance window' });

    // Act: bulk pause the other two
    await page.getByLabel('Select Hourly scan').check();
    await page.getByLabel('Select Nightly scan').check();
    await page.getByRole('button', { name: 'Pause selected (2)' }).click();
    await page.getByRole('status').filter({ hasText: '2 schedules paused' }).waitFor();

    // Assess
    for (const id of schedules) {
      expect((await api<{ status: string }>('GET', `/schedules/${id}`)).body.status).toBe('paused');
    }

    // Act: bulk resume all three
    await page.getByLabel('Select every schedule').check();
    await page.getByRole('button', { name: 'Resume selected (3)' }).click();
    await page.getByRole('status').filter({ hasText: '3 schedules resumed' }).waitFor();

    // Assess
    for (const id of schedules) {
      expect((await api<{ status: string }>('GET', `/schedules/${id}`)).body.status).toBe('active');
    }

    // Act: one schedule's page and the accounts page
    await page.goto(`${harness.url}/console#/schedules/${schedules[0]}`);
    await page.getByRole('heading', { name: 'Next fire times' }).waitFor();
    await page.getByText('At 06:00, Monday through Friday').waitFor();
    await screenshot(page, 'schedule');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page
      .getByRole('button', { name: /^Re-validate/ })
      .first()
      .waitFor();
    await screenshot(page, 'accounts');
    expect(await seriousViolations(page)).toEqual([]);

    // Act: re-validate the first account
    const before = await api<{ accounts: Array<{ account_id: string; last_validated_at: string }> }>(
      'GET',
      `/onboarding/accounts?tenant_id=${tenant.tenantId}`,
    );
    const first = before.body.accounts[0];
    await page
      .getByRole('button', { name: /^Re-validate/ })
      .first()
      .click();
    await page.getByRole('status').filter({ hasText: 'Validation of' }).waitFor();

    // Assess: the API records a new validation of that account
    await expect
      .poll(async () => {
        const now = await api<{ last_validated_at: string }>(
          'GET',
          `/onboarding/accounts/${first?.account_id}`,
        );
        return now.body.last_validated_at > (first?.last_validated_at ?? '');
      })
      .toBe(true);
    expect(problems).toEqual({ consoleErrors: [], failedRequests: [] });
    await context.close();
  });

  it('shows a viewer no action the API would refuse', async () => {
    // Prepare
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const { page, problems } = await openPage(context);

    // Act: every page, as a viewer
    await page.goto(`${harness.url}/console#token=${tenant.tokens.viewer}`);
    await page.locator('table.runs tbody tr').first().waitFor();
    const seen: Record<string, string[]> = {};
    const buttons = async (name: string) => {
      seen[name] = (await page.getByRole('button').allTextContents()).filter((text) =>
        ACTION_BUTTONS.test(text),
      );
    };
    await buttons('runs');
    await page.goto(`${harness.url}/console#/runs/${failedRun}`);
    await page.locator('.run-graph .node').first().waitFor();
    await buttons('run');
    await page.goto(`${harness.url}/console#/schedules`);
    await page.locator(`tr[data-schedule="${schedules[0]}"]`).waitFor();
    await buttons('schedules');
    await page.goto(`${harness.url}/console#/schedules/${schedules[1]}`);
    await page.getByRole('heading', { name: 'Recent runs' }).waitFor();
    await buttons('schedule');
    await page.goto(`${harness.url}/console#/accounts`);
    await page.locator('table tbody tr').first().waitFor();
    await buttons('accounts');
    await screenshot(page, 'accounts-viewer');

    // Assess
    expect(seen).toEqual({ runs: [], run: [], schedules: [], schedule: [], accounts: [] });
    expect(await page.locator('input[type="checkbox"][aria-label^="Select"]').count()).toBe(0);
    expect(problems).toEqual({ consoleErrors: [], failedRequests: [] });
    await context.close();
  });

  it('serves the page and its assets without a token, and every data route still needs one', async () => {
    // Act
    const responses = await Promise.all(
      ['/console', '/console/assets/app.js', '/console/favicon.svg', `${V1}/executions`].map((path) =>
        fetch(`${harness.url}${path}`),
      ),
    );

    // Assess
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 401]);
    expect(responses[0]?.headers.get('content-security-policy')).toContain("script-src 'self'");
  });
});

/**
 * A stand-in OIDC issuer on loopback: discovery, an authorization endpoint that signs the user in
 * at once, and a token endpoint that checks the PKCE verifier against the challenge.
 */
async function startFakeIssuer(issueToken: () => Promise<string>) {
  const codes = new Map<string, { challenge: string; redirectUri: string; clientId: string }>();
  const seen: { challengeMethod: string | null; verified: boolean } = {
    challengeMethod: null,
    verified: false,
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://issuer');
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      json(200, { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` });
    } else if (url.pathname === '/authorize') {
      const code = randomUUID();
      seen.challengeMethod = url.searchParams.get('code_challenge_method');
      codes.set(code, {
        challenge: url.searchParams.get('code_challenge') ?? '',
        redirectUri: url.searchParams.get('redirect_uri') ?? '',
        clientId: url.searchParams.get('client_id') ?? '',
      });
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(302, { location: back.toString() });
      response.end();
    } else if (url.pathname === '/token' && request.method === 'POST') {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        const form = new URLSearchParams(body);
        const grant = codes.get(form.get('code') ?? '');
        const challenge = createHash('sha256')
          .update(form.get('code_verifier') ?? '')
          .digest('base64url');
        if (!grant || grant.challenge !== challenge || grant.clientId !== form.get('client_id')) {
          json(400, { error: 'invalid_grant' });
          return;
        }
        seen.verified = grant.redirectUri === form.get('redirect_uri');
        void issueToken().then((token) => json(200, { id_token: token, token_type: 'Bearer' }));
      });
    } else json(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('Operator console with a hosted login', () => {
  let oidcHarness: ApiHarness;
  let issuer: Awaited<ReturnType<typeof startFakeIssuer>>;

  beforeAll(async () => {
    let mint: () => Promise<string> = () => Promise.reject(new Error('not started'));
    issuer = await startFakeIssuer(() => mint());
    oidcHarness = await ApiHarness.start({
      env: { OIDC_ISSUER: issuer.issuer, CONSOLE_OIDC_CLIENT_ID: 'console-test' },
    });
    mint = () => oidcHarness.token('platform_admin', null, 'oidc-operator');
  }, 60_000);

  afterAll(async () => {
    await oidcHarness?.close();
    await issuer?.close();
  });

  it('signs in through the issuer with the authorization code and PKCE, and keeps no code in the address bar', async () => {
    // Prepare
    const context = await browser.newContext();
    const { page, problems } = await openPage(context);
    await page.goto(`${oidcHarness.url}/console`);
    await page.getByRole('button', { name: 'Sign in with your organisation' }).waitFor();
    await screenshot(page, 'sign-in');
    expect(await seriousViolations(page)).toEqual([]);

    // Act
    await page.getByRole('button', { name: 'Sign in with your organisation' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();

    // Assess
    expect(issuer.seen).toEqual({ challengeMethod: 'S256', verified: true });
    expect(await page.getByText('oidc-operator').count()).toBe(1);
    expect(page.url()).toBe(`${oidcHarness.url}/console#/runs`);
    expect(problems).toEqual({ consoleErrors: [], failedRequests: [] });
    await context.close();
  });
});
