import type { Context } from 'hono';
import type { WorkflowName } from '../core/ports/orchestrator';
import { describeFailure } from '../core/task-failure';
import { waitForWorkflowEnd } from '../core/workflow-wait';
import { executionStatusUrl } from './account-view';
import type { ApiEnv } from './api-context';
import type { ApiServices } from './api-services';
import { errorBody } from './error-response';

/**
 * How validate, validate-json and the credentials routes answer once their workflow has started.
 * By default they wait for it (API_VALIDATION_WAIT_SECONDS, bounded polling through the
 * orchestrator port) and answer as the legacy service did: 200 `{success: true, ...}`, or 400 with
 * `detail: {message, errors}` carrying the workflow's own reason. Still running at the deadline,
 * or asked `Prefer: respond-async` (RFC 7240): 202 with the execution id and its status_url.
 */

export interface StartedValidation {
  workflow: Extract<WorkflowName, 'onboarding' | 'validation'>;
  executionId: string;
  accountId: string;
  /** The 202 body (execution_id, status_url, ...). */
  accepted: Record<string, unknown>;
}

/** How the routes that answer through answerValidation describe it in the OpenAPI document. */
export const SYNCHRONOUS_VALIDATION_DESCRIPTION =
  'Waits for the workflow (API_VALIDATION_WAIT_SECONDS, default 20): 200 {success: true, account_number, ...} when it succeeded, 400 {detail: {message, errors}} with its reason when it refused the credentials. Still running at the deadline, or with Prefer: respond-async: 202 with execution_id and status_url (also in Location).';

/** Failure codes that say the cloud provider or one of ours could not be reached: retry later (503). */
const UNAVAILABLE_CODES = new Set(['provider_unreachable', 'dependency_unavailable']);

const SUCCESS_MESSAGES = {
  onboarding: 'Account successfully onboarded and validated',
  validation: 'Credentials are valid',
} as const;

/** The RFC 7240 preferences this API honours: `respond-async` and `wait=<seconds>`. */
export function preferencesOf(header: string | undefined): { respondAsync: boolean; waitSeconds?: number } {
  let respondAsync = false;
  let waitSeconds: number | undefined;
  for (const preference of (header ?? '').split(',')) {
    const [token = '', ...rest] = preference.split(';')[0]?.split('=') ?? [];
    const name = token.trim().toLowerCase();
    const value = rest.join('=').trim().replace(/^"|"$/g, '');
    if (name === 'respond-async') respondAsync = true;
    if (name === 'wait' && /^\d{1,5}$/.test(value)) waitSeconds = Number(value);
  }
  return waitSeconds === undefined ? { respondAsync } : { respondAsync, waitSeconds };
}

export async function answerValidation(
  context: Context<ApiEnv>,
  services: ApiServices,
  started: StartedValidation,
): Promise<Response> {
  const statusUrl = executionStatusUrl(started.executionId);
  context.header('Location', statusUrl);
  const preferences = preferencesOf(context.req.header('prefer'));
  if (preferences.respondAsync) {
    context.header('Preference-Applied', 'respond-async');
    return context.json(started.accepted, 202);
  }
  const configured = services.settings.API_VALIDATION_WAIT_SECONDS;
  const waitSeconds = Math.min(configured, preferences.waitSeconds ?? configured);
  const ended = await waitForWorkflowEnd(
    services.orchestrator,
    services.executionArnFor(started.workflow, started.executionId),
    { timeoutMs: waitSeconds * 1000 },
  );
  if (!ended) {
    return context.json(
      { ...started.accepted, message: 'the validation is still running: follow status_url' },
      202,
    );
  }
  if (ended.status === 'SUCCEEDED') {
    const account = await services.repositories.accounts.get(started.accountId);
    return context.json(
      {
        success: true as const,
        message: SUCCESS_MESSAGES[started.workflow],
        errors: [],
        account_id: started.accountId,
        account_number: account?.account_number ?? null,
        status: account?.status ?? 'active',
        onboarding_status: account?.onboarding_status ?? 'completed',
        validated_offline: account?.validated_offline ?? false,
        last_validated_at: account?.last_validated_at ?? null,
        execution_id: started.executionId,
        status_url: statusUrl,
      },
      200,
    );
  }
  const failure = describeFailure({
    ...(ended.error ? { Error: ended.error } : {}),
    ...(ended.cause ? { Cause: ended.cause } : {}),
  });
  const reason =
    ended.status === 'FAILED'
      ? failure.error_message
      : `the ${started.workflow} ${ended.status.toLowerCase()}`;
  const status = UNAVAILABLE_CODES.has(failure.error_code) ? 503 : 400;
  if (status === 503) context.header('Retry-After', '30');
  const message = `credential validation failed: ${reason}`;
  return context.json(
    {
      ...errorBody(status, failure.error_code, message),
      detail: { message, errors: [reason] },
      success: false as const,
      errors: [reason],
      account_id: started.accountId,
      execution_id: started.executionId,
      status_url: statusUrl,
    },
    status,
  );
}
