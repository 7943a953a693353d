import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiHarness, type TenantFixture } from '../../support/api-harness';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * With offline validation off and no provider reachable (the situation of the local runtime without
 * network), onboarding fails with a clear `provider_unreachable`, not a crash and not "invalid
 * credentials".
 */
describe('Onboarding with the provider unreachable', () => {
  let harness: ApiHarness;
  let tenant: TenantFixture;

  beforeAll(async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    harness = await ApiHarness.start({
      validateOffline: false,
      validatorOptions: {
        endpoints: { azureLogin: dead, azureManagement: dead, ibmIam: dead, ibmResourceController: dead },
        timeoutMs: 2_000,
      },
    });
    tenant = await harness.createTenant();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it.each(['azure', 'ibm'] as const)(
    'reports provider_unreachable for %s and keeps the account out of active',
    async (provider) => {
      // Prepare
      const account = await harness.initAccount(tenant, provider);

      // Act
      const { status } = await harness.submitAndWait(account);
      const detail = await harness.request('GET', `/api/v1/onboarding/accounts/${account.accountId}`, {
        token: tenant.tokens.viewer,
      });

      // Assess
      expect(status.status).toBe('FAILED');
      expect(status.error?.code).toBe('provider_unreachable');
      expect(status.error?.message).toMatch(/reach|unreachable|connect/i);
      expect(detail.body).toMatchObject({
        status: 'error',
        onboarding_status: 'failed',
        validated_offline: false,
        onboarding_error: { code: 'provider_unreachable' },
        credentials: { current: false, pending: false },
      });
    },
  );
});
