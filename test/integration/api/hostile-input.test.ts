import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAwsAccessKeyCredentials } from '../../fixtures/credentials';
import { type AccountFixture, ApiHarness, type TenantFixture } from '../../support/api-harness';

/**
 * Input meant to break things: every answer is a 4xx in the one error shape, without internals,
 * and nothing is written (rate-limit counters in the claims table aside: refused validation calls
 * count against the tenant on purpose).
 */

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('Hostile input', () => {
  let harness: ApiHarness;
  let tenant: TenantFixture;
  let other: TenantFixture;
  let account: AccountFixture;

  const countsWithoutClaims = async () => {
    const { claims: _claims, ...rest } = await harness.itemCounts();
    return rest;
  };

  beforeAll(async () => {
    harness = await ApiHarness.start();
    tenant = await harness.createTenant();
    other = await harness.createTenant();
    account = await harness.initAccount(tenant, 'aws', { auth_method: 'access_key' });
  });
  afterAll(async () => {
    await harness?.close();
  });

  const expectRefused = (
    response: { status: number; body: Record<string, unknown>; text: string },
    status: number,
  ) => {
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ status, code: expect.any(String), message: expect.any(String) });
    expect(response.text).not.toMatch(
      /node_modules|\bat [\w.<>]+ \(|Error:|ConditionalCheck|dynalite|\.ts:\d+/,
    );
  };

  describe('content types', () => {
    it.each([
      ['text/plain', '{"tenant_name":"Typed"}'],
      ['application/x-www-form-urlencoded', 'tenant_name=Typed'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="tenant_name"\r\n\r\nTyped\r\n--x--',
      ],
      ['application/jsonp', '{"tenant_name":"Typed"}'],
      ['application/xml', '<tenant_name>Typed</tenant_name>'],
    ])('answers 415 to %s and creates nothing', async (contentType, rawBody) => {
      const before = await harness.itemCounts();

      const response = await harness.request('POST', '/api/v1/tenants', {
        token: harness.adminToken,
        rawBody,
        headers: { 'content-type': contentType },
      });

      expectRefused(response, 415);
      expect(response.body.details).toEqual([{ field: 'content-type', message: 'must be application/json' }]);
      expect(await harness.itemCounts()).toEqual(before);
    });

    it('answers 400 to a JSON route called without any body', async () => {
      const response = await harness.request('POST', '/api/v1/tenants', { token: harness.adminToken });

      expectRefused(response, 400);
    });

    it('accepts application/json with a charset', async () => {
      const response = await harness.request('POST', '/api/v1/tenants', {
        token: harness.adminToken,
        rawBody: JSON.stringify({ tenant_name: `Charset ${Date.now()}` }),
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });

      expect(response.status).toBe(201);
    });
  });

  describe('malformed JSON', () => {
    it.each([
      ['truncated', '{"tenant_name": "Half'],
      ['trailing garbage', '{"tenant_name":"A"} {"x":1}'],
      ['single quotes', "{'tenant_name':'A'}"],
      ['a bare string', '"tenant_name"'],
      ['an array', '[{"tenant_name":"A"}]'],
      ['null', 'null'],
      ['a number', '42'],
      ['a lone surrogate name', '{"tenant_name":"\\ud800"}'],
    ])('answers 400 to %s and creates nothing', async (_case, rawBody) => {
      const before = await harness.itemCounts();

      const response = await harness.request('POST', '/api/v1/tenants', {
        token: harness.adminToken,
        rawBody,
        headers: { 'content-type': 'application/json' },
      });

      expectRefused(response, 400);
      expect(await harness.itemCounts()).toEqual(before);
    });
  });

  describe('size and depth', () => {
    it('answers 413 to a body over the limit (declared length)', async () => {
      const before = await harness.itemCounts();

      const response = await harness.request('POST', '/api/v1/tenants', {
        token: harness.adminToken,
        json: { tenant_name: 'Big', description: 'x'.repeat(70 * 1024) },
      });

      expectRefused(response, 413);
      expect(response.body.code).toBe('payload_too_large');
      expect(await harness.itemCounts()).toEqual(before);
    });

    it('answers 413 to a streamed (chunked) body over the limit', async () => {
      const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 8) {
            controller.close();
            return;
          }
          sent += 1;
          controller.enqueue(chunk);
        },
      });

      const response = await fetch(`${harness.url}/api/v1/tenants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${harness.adminToken}`, 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit & { duplex: 'half' });

      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ code: 'payload_too_large' });
    });

    it.each([25, 2000, 10_000])('answers 400 to JSON nested %i levels deep', async (depth) => {
      const before = await harness.itemCounts();

      const response = await harness.request('POST', '/api/v1/onboarding/aws/init', {
        token: tenant.tokens.tenant_admin,
        rawBody: `{"account_name":"Deep","extra":${nested(depth)}}`,
        headers: { 'content-type': 'application/json' },
      });

      expectRefused(response, 400);
      expect(await harness.itemCounts()).toEqual(before);
    });
  });

  describe('unknown fields', () => {
    it.each([
      ['POST', '/api/v1/tenants', { tenant_name: 'Extra', tenant_id: 'chosen-id' }, 'tenant_id'],
      [
        'POST',
        '/api/v1/tenants',
        JSON.parse('{"tenant_name":"Proto","__proto__":{"role":"platform_admin"}}'),
        '__proto__',
      ],
      ['POST', '/api/v1/onboarding/aws/init', { account_name: 'Extra', status: 'active' }, 'status'],
      [
        'POST',
        '/api/v1/onboarding/aws/init',
        { account_name: 'Extra', external_id: 'threat-engine-0123456789abcdef' },
        'external_id',
      ],
    ])('%s %s refuses %j naming %s', async (method, path, body, field) => {
      const before = await harness.itemCounts();
      const token = path.includes('onboarding') ? tenant.tokens.tenant_admin : harness.adminToken;

      const response = await harness.request(method, path, {
        token,
        rawBody: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });

      expectRefused(response, 400);
      expect((response.body.details as { field: string }[]).map((issue) => issue.field)).toContain(field);
      expect(await harness.itemCounts()).toEqual(before);
    });
  });

  describe('injection strings', () => {
    it.each([
      [
        'SQL in a tenant name',
        '/api/v1/tenants',
        () => ({ tenant_name: "Robert'); DROP TABLE tenants;--" }),
        'admin',
      ],
      [
        'markup in a tenant name',
        '/api/v1/tenants',
        () => ({ tenant_name: '<script>alert(1)</script>' }),
        'admin',
      ],
      [
        'a right-to-left override in a tenant name',
        '/api/v1/tenants',
        () => ({ tenant_name: 'Acme\u202egpj.exe' }),
        'admin',
      ],
      [
        'markup in an account name',
        '/api/v1/onboarding/aws/init',
        () => ({ account_name: '<img src=x onerror=alert(1)>' }),
        'tenant',
      ],
      [
        'a NoSQL operator as an account id',
        '/api/v1/onboarding/aws/validate',
        () => ({
          account_id: { $ne: null },
          auth_method: 'access_key',
          credentials: fakeAwsAccessKeyCredentials(),
        }),
        'tenant',
      ],
      [
        'a DynamoDB expression as an account id',
        '/api/v1/onboarding/aws/validate',
        () => ({
          account_id: 'x OR attribute_exists(account_id)',
          auth_method: 'access_key',
          credentials: fakeAwsAccessKeyCredentials(),
        }),
        'tenant',
      ],
      [
        'a template in credentials',
        '/api/v1/onboarding/aws/validate',
        () => ({
          account_id: account.accountId,
          auth_method: 'access_key',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style lookup string, on purpose
          credentials: { access_key_id: '${jndi:ldap://127.0.0.1/x}', secret_access_key: '{{7*7}}' },
        }),
        'tenant',
      ],
    ])('answers 400 to %s and writes nothing', async (_case, path, body, who) => {
      const before = await countsWithoutClaims();

      const response = await harness.request('POST', path, {
        token: who === 'admin' ? harness.adminToken : tenant.tokens.tenant_admin,
        json: body(),
      });

      expectRefused(response, 400);
      expect(response.text).not.toContain('jndi');
      expect(await countsWithoutClaims()).toEqual(before);
      expect(await harness.runtime.secretStore.describe(account.accountId)).toBeUndefined();
    });

    it.each([
      ['/api/v1/onboarding/accounts?provider_type=aws%20OR%201%3D1', 400],
      ['/api/v1/onboarding/accounts?status=active%23x', 400],
      ['/api/v1/onboarding/accounts?limit=1e9', 400],
      ['/api/v1/onboarding/accounts/..%2F..%2Fetc%2Fpasswd', 400],
      ['/api/v1/onboarding/accounts/%00', 400],
      ['/api/v1/onboarding/executions/onboard-%27%20OR%20%271%27%3D%271', 400],
    ])('answers GET %s with %i', async (path, status) => {
      const response = await harness.request('GET', path, { token: tenant.tokens.viewer });

      expectRefused(response, status);
    });

    it("refuses a forged cursor pointing into another tenant's listing", async () => {
      await harness.initAccount(other, 'aws');
      const forged = Buffer.from(
        JSON.stringify({ account_id: 'zzz', tenant_id: other.tenantId, status: 'pending' }),
        'utf8',
      ).toString('base64url');

      const response = await harness.request('GET', `/api/v1/onboarding/accounts?cursor=${forged}`, {
        token: tenant.tokens.viewer,
      });

      expectRefused(response, 400);
      expect(response.body.details).toEqual([{ field: 'cursor', message: expect.any(String) }]);
      expect(response.text).not.toContain(other.tenantId);
    });

    it('refuses an Idempotency-Key outside its alphabet', async () => {
      const before = await harness.itemCounts();

      const response = await harness.request('POST', '/api/v1/tenants', {
        token: harness.adminToken,
        json: { tenant_name: `Keyed ${Date.now()}` },
        headers: { 'idempotency-key': 'key with spaces; drop' },
      });

      expectRefused(response, 400);
      expect(response.body.details).toEqual([{ field: 'Idempotency-Key', message: expect.any(String) }]);
      expect(await harness.itemCounts()).toEqual(before);
    });
  });

  describe('CORS', () => {
    it('sends no CORS headers by default (never *)', async () => {
      const simple = await harness.request('GET', '/api/v1/health', {
        headers: { origin: 'https://evil.example' },
      });
      const preflight = await harness.request('OPTIONS', '/api/v1/tenants', {
        headers: {
          origin: 'https://evil.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });

      expect(simple.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.status).toBe(401);
    });

    it('answers only the configured origins when an allow-list is set', async () => {
      const allowed = 'https://console.example.com';
      const configured = await ApiHarness.start({
        env: { API_CORS_ALLOWED_ORIGINS: `${allowed}, https://ops.example.com` },
      });
      try {
        const preflight = await configured.request('OPTIONS', '/api/v1/tenants', {
          headers: { origin: allowed, 'access-control-request-method': 'POST' },
        });
        const stranger = await configured.request('GET', '/api/v1/health', {
          headers: { origin: 'https://evil.example' },
        });

        expect(preflight.status).toBe(204);
        expect(preflight.headers.get('access-control-allow-origin')).toBe(allowed);
        expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Idempotency-Key/i);
        expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        await configured.close();
      }
    });

    it('refuses to start with a wildcard origin', async () => {
      await expect(ApiHarness.start({ env: { API_CORS_ALLOWED_ORIGINS: '*' } })).rejects.toThrow(
        /API_CORS_ALLOWED_ORIGINS/,
      );
    });
  });
});
