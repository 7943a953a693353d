import type { Command } from 'commander';
import type { Ora } from 'ora';
import { API_PREFIX, type ApiClient, segment } from '../api-client';
import { contextOf, endWith, pageOptions, printNextPage } from '../command-context';
import { CliError, EXIT } from '../exit-codes';
import { printFields, printJson, printTable, spinner, status, when, writeOut } from '../output';

interface AccountView {
  account_id: string;
  tenant_id: string;
  provider_type: string | null;
  account_name: string;
  account_number: string | null;
  status: string;
  onboarding_status: string;
  auth_method: string | null;
  credential_type: string | null;
  validated_offline: boolean;
  last_validated_at: string | null;
  onboarding_error: { code: string; message: string } | null;
  validation_error: { code: string; message: string; failed_at: string | null } | null;
  created_at: string;
  updated_at: string;
  credentials?: { current: boolean; pending: boolean; scheduled_deletion_at: string | null };
}

interface WorkflowStatus {
  execution_id: string;
  status: string;
  error: { code: string; message: string } | null;
  account?: { status: string; onboarding_status: string } | null;
}

/** How often a validation still running is asked about. */
const POLL_MS = 500;
/** A validation that has not ended by then is reported as such (exit 4). */
const VALIDATE_TIMEOUT_MS = 10 * 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `threat-engine accounts list|show|validate`. */
export function registerAccountsCommand(program: Command): void {
  const accounts = program.command('accounts').description('onboarded cloud accounts');

  pageOptions(
    accounts
      .command('list')
      .description("the accounts of a tenant (the token's own; platform admins name one with --tenant)")
      .option('--tenant <id>', 'the tenant (platform admins)')
      .option('--provider <provider>', 'only this provider: aws, azure, gcp, alicloud, oci, ibm')
      .option('--status <status>', 'only this status (pending, active, disabled...)'),
  ).action(
    async (
      options: { tenant?: string; provider?: string; status?: string; limit: number; cursor?: string },
      command: Command,
    ) => {
      const { api, json } = contextOf(command);
      const page = await api.get<{ accounts: AccountView[]; next_cursor: string | null }>(
        '/onboarding/accounts',
        {
          tenant_id: options.tenant,
          provider_type: options.provider,
          status: options.status,
          limit: options.limit,
          cursor: options.cursor,
        },
      );
      if (json) return printJson(page);
      printTable(
        ['ACCOUNT ID', 'NAME', 'PROVIDER', 'NUMBER', 'STATUS', 'ONBOARDING', 'LAST VALIDATED'],
        page.accounts.map((account) => [
          account.account_id,
          account.account_name,
          account.provider_type ?? '-',
          account.account_number ?? '-',
          status(account.status),
          account.onboarding_status,
          when(account.last_validated_at),
        ]),
        'no accounts',
      );
      printNextPage(page.next_cursor);
    },
  );

  accounts
    .command('show')
    .description('one account: status, onboarding, credentials state, last validation')
    .argument('<account_id>')
    .option('--tenant <id>', 'the tenant (platform admins)')
    .action(async (accountId: string, options: { tenant?: string }, command: Command) => {
      const { api, json } = contextOf(command);
      const account = await api.get<AccountView>(`/onboarding/accounts/${segment(accountId)}`, {
        tenant_id: options.tenant,
      });
      if (json) return printJson(account);
      const credentials = account.credentials;
      printFields([
        ['account', account.account_id],
        ['name', account.account_name],
        ['tenant', account.tenant_id],
        ['provider', `${account.provider_type ?? '-'} ${account.account_number ?? ''}`.trim()],
        ['status', status(account.status)],
        ['onboarding', account.onboarding_status],
        ['auth method', account.auth_method ?? '-'],
        [
          'credentials',
          credentials
            ? [
                credentials.current ? 'current' : 'none current',
                credentials.pending ? 'a new version pending' : '',
                credentials.scheduled_deletion_at
                  ? `deleted at ${when(credentials.scheduled_deletion_at)}`
                  : '',
              ]
                .filter(Boolean)
                .join(', ')
            : '-',
        ],
        [
          'last validated',
          `${when(account.last_validated_at)}${account.validated_offline ? ' (offline)' : ''}`,
        ],
        ...(account.validation_error
          ? [
              [
                'validation error',
                `${account.validation_error.code}: ${account.validation_error.message}`,
              ] as const,
            ]
          : []),
        ...(account.onboarding_error
          ? [
              [
                'onboarding error',
                `${account.onboarding_error.code}: ${account.onboarding_error.message}`,
              ] as const,
            ]
          : []),
        ['created', when(account.created_at)],
        ['updated', when(account.updated_at)],
      ]);
    });

  accounts
    .command('validate')
    .description(
      "check the account's current credentials with its provider and wait for the answer (exit 1 when they fail)",
    )
    .argument('<account_id>')
    .option('--tenant <id>', 'the tenant (platform admins)')
    .action(async (accountId: string, options: { tenant?: string }, command: Command) => {
      const { api, json } = contextOf(command);
      const progress = spinner(`validating the credentials of account ${accountId}`, json).start();
      let body: Record<string, unknown>;
      try {
        // The API answers when the validation has ended (200, or 400 with success: false when the
        // provider refused the credentials), or 202 with a status URL when it is still going.
        const answer = await api.request<Record<string, unknown>>(
          'GET',
          `/accounts/${segment(accountId)}/credentials/validate`,
          {
            query: { tenant_id: options.tenant },
            accept: (code, answered) =>
              code === 400 && (answered as { success?: unknown } | undefined)?.success === false,
          },
        );
        body =
          answer.status === 202 && typeof answer.body.status_url === 'string'
            ? await waitForWorkflow(api, answer.body.status_url, progress)
            : answer.body;
      } finally {
        progress.stop();
      }
      const workflowStatus = typeof body.status === 'string' ? body.status : undefined;
      const failed =
        body.success === false ||
        (body.success === undefined && workflowStatus !== undefined && workflowStatus !== 'SUCCEEDED');
      if (json) printJson(body);
      else if (failed)
        writeOut(
          `${status('failed')}: the credentials of account ${accountId} did not validate: ${reasonOf(body)}`,
        );
      else writeOut(`${status('succeeded')}: the credentials of account ${accountId} are valid`);
      endWith(failed ? EXIT.failed : EXIT.ok);
    });
}

/** Why a validation failed, from the synchronous refusal or the workflow's status document. */
function reasonOf(body: Record<string, unknown>): string {
  const error = body.error as WorkflowStatus['error'] | undefined;
  if (error) return `${error.code}: ${error.message}`;
  const errors = Array.isArray(body.errors) ? body.errors.filter((item) => typeof item === 'string') : [];
  const head = [body.code, body.message].filter((part) => typeof part === 'string').join(': ');
  const extra = errors.filter((item) => !head.includes(item));
  return [head || 'no reason given', ...extra].join('; ');
}

async function waitForWorkflow(
  api: ApiClient,
  statusUrl: string,
  progress: Ora,
): Promise<Record<string, unknown>> {
  const path = statusUrl.startsWith(API_PREFIX) ? statusUrl.slice(API_PREFIX.length) : statusUrl;
  const deadline = Date.now() + VALIDATE_TIMEOUT_MS;
  for (;;) {
    const current = await api.get<WorkflowStatus & Record<string, unknown>>(path);
    if (current.status !== 'RUNNING') return current;
    if (Date.now() > deadline) {
      throw new CliError(
        `the validation ${current.execution_id} is still running after ${VALIDATE_TIMEOUT_MS / 60_000} min`,
        EXIT.unavailable,
      );
    }
    progress.text = `validating (workflow ${current.execution_id})`;
    await sleep(POLL_MS);
  }
}
