import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccountFixture, ApiHarness, type TenantFixture } from '../../support/api-harness';

/**
 * Property-based: any string a client can put in a field the API reads answers a 2xx or a 4xx in
 * the one error shape, never a 5xx; and an error message quotes input only bounded and escaped.
 */

/** Names an object literal inherits, the classic way into a plain-object dictionary. */
const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  'toLocaleString',
];
const MARKUP = '<svg onload=alert(1)>';
const LONG = 'B'.repeat(5_000);

const hostileString = fc.oneof(
  fc.constantFrom(...PROTOTYPE_NAMES, MARKUP, LONG, '', ' ', '@', '@daily', '*', '?', 'L', '#', '/'),
  fc.constantFrom(...PROTOTYPE_NAMES).map((name) => `@${name}`),
  fc.constantFrom(...PROTOTYPE_NAMES).map((name) => `cron(${name})`),
  fc.constantFrom(...PROTOTYPE_NAMES).map((name) => `rate(1 ${name})`),
  fc.constantFrom(...PROTOTYPE_NAMES).map((name) => `${name} * * * *`),
  fc.constantFrom(...PROTOTYPE_NAMES).map((name) => `* * * * ${name}`),
  fc
    .array(fc.constantFrom('*', '0', '1-5', '*/2', 'MON', 'JAN', 'L', '#', '?', '__proto__', 'W', '5L'), {
      minLength: 1,
      maxLength: 7,
    })
    .map((parts) => parts.join(' ')),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

describe('Hostile input (property-based)', () => {
  let harness: ApiHarness;
  let tenant: TenantFixture;
  let account: AccountFixture;
  let scheduleId: string;

  beforeAll(async () => {
    harness = await ApiHarness.start();
    tenant = await harness.createTenant();
    account = await harness.activeAccount(tenant);
    const created = await harness.request<{ schedule_id: string }>('POST', '/api/v1/schedules', {
      token: tenant.tokens.tenant_admin,
      json: {
        account_id: account.accountId,
        name: 'Nightly',
        schedule_type: 'cron',
        cron_expression: '0 3 * * *',
      },
    });
    expect(created.status, created.text).toBe(201);
    scheduleId = created.body.schedule_id;
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  const expectNoServerError = (response: { status: number; text: string }, input: string) => {
    expect(response.status, `${input}: ${response.text.slice(0, 300)}`).toBeLessThan(500);
    if (response.status >= 400) {
      expect(response.text, input).not.toContain('<svg');
      expect(response.text, input).not.toContain(LONG.slice(0, 200));
      expect(response.text.length, input).toBeLessThan(4_000);
    }
  };

  type Send = (value: string) => Promise<{ status: number; text: string }>;
  const admin = () => tenant.tokens.tenant_admin;
  const post = (path: string, json: unknown, token = admin()) =>
    harness.request('POST', path, { token, json });
  const get = (path: string) => harness.request('GET', path, { token: admin() });
  const schedule = (fields: Record<string, unknown>) => ({
    account_id: account.accountId,
    name: 'Hostile',
    ...fields,
  });

  /** Every field and parameter the API reads from a client, each with the value put in it. */
  const targets: Record<string, Send> = {
    'POST /schedules cron_expression': (v) =>
      post('/api/v1/schedules', schedule({ schedule_type: 'cron', cron_expression: v })),
    'POST /schedules schedule_expression': (v) =>
      post('/api/v1/schedules', schedule({ schedule_expression: v })),
    'POST /schedules preset': (v) => post('/api/v1/schedules', schedule({ preset: v })),
    'POST /schedules timezone': (v) =>
      post('/api/v1/schedules', schedule({ schedule_expression: 'rate(1 day)', timezone: v })),
    'POST /schedules overlap_policy': (v) =>
      post('/api/v1/schedules', schedule({ schedule_expression: 'rate(1 day)', overlap_policy: v })),
    'POST /schedules schedule_type': (v) =>
      post('/api/v1/schedules', schedule({ schedule_type: v, cron_expression: '0 3 * * *' })),
    'POST /schedules account_id': (v) =>
      post('/api/v1/schedules', schedule({ account_id: v, schedule_expression: 'rate(1 day)' })),
    'PUT /schedules/{id} cron_expression': (v) =>
      harness.request('PUT', `/api/v1/schedules/${scheduleId}`, {
        token: admin(),
        json: { schedule_type: 'cron', cron_expression: v },
      }),
    'PUT /schedules/{id} schedule_expression': (v) =>
      harness.request('PUT', `/api/v1/schedules/${scheduleId}`, {
        token: admin(),
        json: { schedule_expression: v },
      }),
    'POST /schedules/{id}/pause note': (v) => post(`/api/v1/schedules/${scheduleId}/pause`, { note: v }),
    'POST /onboarding/{provider}/init provider': (v) =>
      post(`/api/v1/onboarding/${encodeURIComponent(v)}/init`, { account_name: 'Hostile' }),
    'POST /onboarding/aws/init auth_method': (v) =>
      post('/api/v1/onboarding/aws/init', { account_name: 'Hostile', auth_method: v }),
    'POST /onboarding/aws/init account_name': (v) => post('/api/v1/onboarding/aws/init', { account_name: v }),
    'POST /onboarding/aws/init tenant_id (platform admin)': (v) =>
      post('/api/v1/onboarding/aws/init', { account_name: 'Hostile', tenant_id: v }, harness.adminToken),
    'POST /onboarding/aws/validate auth_method': (v) =>
      post('/api/v1/onboarding/aws/validate', {
        account_id: account.accountId,
        auth_method: v,
        credentials: {},
      }),
    'POST /onboarding/aws/validate account_id': (v) =>
      post('/api/v1/onboarding/aws/validate', { account_id: v, auth_method: 'access_key', credentials: {} }),
    'POST /onboarding/aws/validate credential_type and credential keys': (v) =>
      post('/api/v1/onboarding/aws/validate', {
        account_id: account.accountId,
        credential_type: v,
        credentials: { [v]: v },
      }),
    'POST /onboarding/aws/validate-json': (v) =>
      post('/api/v1/onboarding/aws/validate-json', { account_id: account.accountId, [v]: v }),
    'GET /schedules/{id}': (v) => get(`/api/v1/schedules/${encodeURIComponent(v)}`),
    'GET /executions/{id}': (v) => get(`/api/v1/executions/${encodeURIComponent(v)}`),
    'GET /onboarding/accounts/{id}': (v) => get(`/api/v1/onboarding/accounts/${encodeURIComponent(v)}`),
    'GET /onboarding/{provider}/methods': (v) => get(`/api/v1/onboarding/${encodeURIComponent(v)}/methods`),
    'GET /schedules?account_id&status&cursor': (v) => {
      const e = encodeURIComponent(v);
      return get(`/api/v1/schedules?account_id=${e}&status=${e}&cursor=${e}&limit=${e}`);
    },
    'GET /onboarding/accounts?status&limit': (v) => {
      const e = encodeURIComponent(v);
      return get(`/api/v1/onboarding/accounts?status=${e}&limit=${e}&cursor=${e}`);
    },
    'GET /tenants/{id}': (v) =>
      harness.request('GET', `/api/v1/tenants/${encodeURIComponent(v)}`, { token: harness.adminToken }),
    'POST /tenants tenant_name': (v) => post('/api/v1/tenants', { tenant_name: v }, harness.adminToken),
    'POST /tenants/{id}/scans': (v) => post(`/api/v1/tenants/${encodeURIComponent(v)}/scans`, {}),
  };
  const names = Object.keys(targets);
  const send = (name: string, value: string) => (targets[name] as Send)(value);

  it('answers every inherited property name, markup and a 5,000-character value in every field without a 5xx', async () => {
    const failures: string[] = [];
    for (const name of names) {
      for (const value of [...PROTOTYPE_NAMES, MARKUP, LONG]) {
        const response = await send(name, value);
        try {
          expectNoServerError(response, `${name} = ${value.slice(0, 30)}`);
        } catch (error) {
          failures.push((error as Error).message.slice(0, 300));
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('answers any string in any field without a 5xx, quoting it only bounded and escaped', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), hostileString, async (name, value) => {
        expectNoServerError(await send(name, value), `${name} = ${value.slice(0, 30)}`);
      }),
      { numRuns: 300 },
    );
  });
});
