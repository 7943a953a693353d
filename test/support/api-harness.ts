import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Role } from '../../functions/api/api-context';
import { createJsonLogger } from '../../functions/core/json-logger';
import type { Logger } from '../../functions/core/logger';
import type { ProviderValidator } from '../../functions/core/ports/provider-validator';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../../local/runtime';
import type { ProviderType } from '../../schemas/common';
import type { CredentialType } from '../../schemas/credentials';
import { fakeCredentials } from '../fixtures/credentials';

/**
 * The local runtime started in process on a free loopback port with a fresh data directory, and
 * real HTTP against it: what every API test (tenants, onboarding, schedules, executions…) uses.
 * Tokens are signed by the runtime's own issuer, so they go through the real verification.
 */

/** The platform account the CloudFormation template trusts in tests (AWS documentation range). */
export const TEST_PLATFORM_ACCOUNT = '444455556666';

export interface ApiHarnessOptions {
  /** Extra environment (the harness sets the data directory, offline validation, the platform account). */
  env?: Record<string, string>;
  /** THREAT_ENGINE_VALIDATE_OFFLINE; default true (no network in tests). */
  validateOffline?: boolean;
  validator?: ProviderValidator;
  validatorOptions?: LocalRuntimeOptions['validatorOptions'];
  /** Default 0.01: workflow Wait states and retry pauses a hundred times shorter. */
  workflowTimeScale?: number;
  /** Replaces the DEBUG logger that keeps every line in `logLines` (the API bench). */
  logger?: Logger;
}

export interface ApiResponse<Body = Record<string, unknown>> {
  status: number;
  headers: Headers;
  /** The parsed JSON body (undefined when the body is not JSON). */
  body: Body;
  text: string;
}

export interface RequestOptions {
  /** The bearer token; none when undefined. */
  token?: string | undefined;
  /** Sent as JSON (content type application/json) unless `rawBody` is given. */
  json?: unknown;
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface TenantFixture {
  tenantId: string;
  tenantName: string;
  tokens: Record<Exclude<Role, 'platform_admin'>, string>;
}

export interface AccountFixture {
  tenant: TenantFixture;
  accountId: string;
  provider: ProviderType;
  externalId: string | null;
}

const TENANT_ROLES = ['tenant_admin', 'operator', 'viewer'] as const;

const CREDENTIAL_TYPE_OF: Record<ProviderType, CredentialType> = {
  aws: 'aws_access_key',
  azure: 'azure_service_principal',
  gcp: 'gcp_service_account',
  alicloud: 'alicloud_access_key',
  oci: 'oci_user_principal',
  ibm: 'ibm_api_key',
};

const AUTH_METHOD_OF: Record<CredentialType, string> = {
  aws_iam_role: 'iam_role',
  aws_access_key: 'access_key',
  azure_service_principal: 'service_principal',
  gcp_service_account: 'service_account',
  alicloud_access_key: 'access_key',
  oci_user_principal: 'user_principal',
  ibm_api_key: 'api_key',
};

let counter = 0;
/** A unique, readable suffix for names within one test process. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix} ${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/**
 * A start date for schedules that must not fire by themselves while a test runs: a rate without
 * one fires first at the next whole minute after its creation, racing the test's own triggers.
 */
export function startTomorrow(): string {
  return new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 86_400_000).toISOString().replace('.000Z', 'Z');
}

export class ApiHarness {
  private constructor(
    readonly runtime: LocalRuntime,
    readonly directory: string,
    readonly adminToken: string,
    /** Every log line the runtime wrote (JSON), for canary checks. */
    readonly logLines: string[],
  ) {}

  static async start(options: ApiHarnessOptions = {}): Promise<ApiHarness> {
    const directory = await mkdtemp(join(tmpdir(), 'te-api-'));
    const logLines: string[] = [];
    const logger = createJsonLogger({
      level: 'DEBUG',
      service: 'api-test',
      write: (line) => logLines.push(line),
    });
    try {
      const runtime = await startLocalRuntime({
        env: {
          THREAT_ENGINE_DATA_DIR: join(directory, 'data'),
          THREAT_ENGINE_VALIDATE_OFFLINE: String(options.validateOffline ?? true),
          PLATFORM_AWS_ACCOUNT_ID: TEST_PLATFORM_ACCOUNT,
          API_VALIDATION_RATE_LIMIT: '1000',
          ...options.env,
        },
        port: 0,
        logger: options.logger ?? logger,
        workflowTimeScale: options.workflowTimeScale ?? 0.01,
        ...(options.validator ? { validator: options.validator } : {}),
        ...(options.validatorOptions ? { validatorOptions: options.validatorOptions } : {}),
      });
      const adminToken = await runtime.tokens.issue({ role: 'platform_admin', subject: 'test-admin' });
      return new ApiHarness(runtime, directory, adminToken, logLines);
    } catch (error) {
      await rm(directory, { recursive: true, force: true });
      throw error;
    }
  }

  get url(): string {
    return this.runtime.url;
  }

  /** A token signed by the runtime's issuer. */
  token(role: Role, tenantId?: string | null, subject?: string): Promise<string> {
    return this.runtime.tokens.issue({ role, tenantId: tenantId ?? null, subject });
  }

  /** One request; `path` is absolute (`/api/v1/...`). Never throws on a status. */
  async request<Body = Record<string, unknown>>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<Body>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | Uint8Array | undefined = options.rawBody;
    if (body === undefined && options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed as Body, text };
  }

  /** A tenant created through the API, with a token per tenant role. */
  async createTenant(name = unique('Tenant')): Promise<TenantFixture> {
    const created = await this.request<{ tenant_id: string }>('POST', '/api/v1/tenants', {
      token: this.adminToken,
      json: { tenant_name: name },
    });
    if (created.status !== 201) throw new Error(`tenant creation failed: ${created.status} ${created.text}`);
    const tenantId = created.body.tenant_id;
    const tokens = Object.fromEntries(
      await Promise.all(TENANT_ROLES.map(async (role) => [role, await this.token(role, tenantId)] as const)),
    ) as TenantFixture['tokens'];
    return { tenantId, tenantName: name, tokens };
  }

  /** A pending account created through `POST /onboarding/{provider}/init`. */
  async initAccount(
    tenant: TenantFixture,
    provider: ProviderType = 'aws',
    body: Record<string, unknown> = {},
  ): Promise<AccountFixture> {
    const response = await this.request<{ account_id: string; external_id: string | null }>(
      'POST',
      `/api/v1/onboarding/${provider}/init`,
      { token: tenant.tokens.tenant_admin, json: { account_name: unique('Account'), ...body } },
    );
    if (response.status !== 201) throw new Error(`init failed: ${response.status} ${response.text}`);
    return { tenant, accountId: response.body.account_id, provider, externalId: response.body.external_id };
  }

  /**
   * Submits credentials through `POST /onboarding/{provider}/validate` and waits for the onboarding
   * execution to end. Default credentials: generated fakes of the provider's first key-based type.
   */
  async submitAndWait(
    account: AccountFixture,
    credentials?: { credential_type: CredentialType; credentials: unknown },
  ): Promise<{ executionId: string; status: ExecutionStatusBody }> {
    const type = credentials?.credential_type ?? CREDENTIAL_TYPE_OF[account.provider];
    const response = await this.request<{ execution_id: string }>(
      'POST',
      `/api/v1/onboarding/${account.provider}/validate`,
      {
        token: account.tenant.tokens.tenant_admin,
        // The 202 at once: this helper follows the execution itself.
        headers: { prefer: 'respond-async' },
        json: {
          account_id: account.accountId,
          auth_method: AUTH_METHOD_OF[type],
          credentials: credentials?.credentials ?? fakeCredentials(type),
        },
      },
    );
    if (response.status !== 202) throw new Error(`validate failed: ${response.status} ${response.text}`);
    const status = await this.waitForExecution(response.body.execution_id, account.tenant.tokens.viewer);
    return { executionId: response.body.execution_id, status };
  }

  /** An account onboarded (offline) to `active`. */
  async activeAccount(tenant: TenantFixture, provider: ProviderType = 'aws'): Promise<AccountFixture> {
    const account = await this.initAccount(
      tenant,
      provider,
      provider === 'aws' ? { auth_method: 'access_key' } : {},
    );
    const { status } = await this.submitAndWait(account);
    if (status.status !== 'SUCCEEDED') throw new Error(`onboarding failed: ${JSON.stringify(status)}`);
    return account;
  }

  /** Polls the status URL until the execution has ended. */
  async waitForExecution(
    executionId: string,
    token: string,
    timeoutMs = 15_000,
  ): Promise<ExecutionStatusBody> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.request<ExecutionStatusBody>(
        'GET',
        `/api/v1/onboarding/executions/${executionId}`,
        {
          token,
        },
      );
      if (response.status !== 200) throw new Error(`status failed: ${response.status} ${response.text}`);
      if (response.body.status !== 'RUNNING') return response.body;
      if (Date.now() > deadline)
        throw new Error(`execution ${executionId} still running after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Items per table (a Scan of each): compare before and after to prove nothing was written. */
  async itemCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const [logical, tableName] of Object.entries(this.runtime.tables)) {
      let count = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.runtime.documentClient.send(
          new ScanCommand({ TableName: tableName, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
        );
        count += page.Count ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      counts[logical] = count;
    }
    return counts;
  }

  /** Every table item as JSON text (for canary searches). */
  async allItemsText(): Promise<string> {
    const texts: string[] = [];
    for (const tableName of Object.values(this.runtime.tables)) {
      const page = await this.runtime.documentClient.send(new ScanCommand({ TableName: tableName }));
      texts.push(JSON.stringify(page.Items ?? []));
    }
    return texts.join('\n');
  }

  async close(): Promise<void> {
    await this.runtime.close();
    await rm(this.directory, { recursive: true, force: true });
  }
}

export interface ExecutionStatusBody {
  execution_id: string;
  workflow: 'onboarding' | 'validation';
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  account_id: string | null;
  error: { code: string; message: string } | null;
  account: {
    status: string;
    onboarding_status: string;
    account_number: string | null;
    validated_offline: boolean;
  } | null;
}
