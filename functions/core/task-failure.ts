import { ownValue } from './own-property';

/**
 * Turns the `{Error, Cause}` a Catch hands over into a recorded error code and a safe message.
 * On AWS, Cause is the Lambda error JSON (`{errorType, errorMessage, trace}`); locally it is the
 * message itself. Only the message is kept (never a stack trace), truncated.
 */

export interface CaughtFailure {
  Error?: string;
  Cause?: string;
}

export interface RecordedFailure {
  error_code: string;
  error_message: string;
  /** The error class name as the workflow saw it. */
  error_name: string;
}

const CODE_BY_ERROR_NAME: Record<string, string> = {
  ValidationError: 'invalid_input',
  NotFoundError: 'not_found',
  ConflictError: 'conflict',
  InvalidTransitionError: 'invalid_transition',
  SecretNotFoundError: 'credentials_missing',
  SecretExpiredError: 'credentials_expired',
  DependencyUnavailableError: 'dependency_unavailable',
  EngineUnavailableError: 'engine_unavailable',
  EngineRejectedError: 'engine_rejected',
  EngineNotConfiguredError: 'engine_not_configured',
  EngineProtocolError: 'engine_protocol_error',
  ScanTimedOutError: 'scan_timed_out',
  'States.Timeout': 'task_timed_out',
  'States.TaskFailed': 'task_failed',
  'States.Runtime': 'workflow_runtime_error',
};

const MAX_MESSAGE = 500;

export function describeFailure(failure: CaughtFailure | undefined | null): RecordedFailure {
  const errorName = failure?.Error ?? 'UnknownError';
  let message = failure?.Cause ?? '';
  try {
    const parsed: unknown = JSON.parse(message);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) {
      message = String((parsed as { errorMessage: unknown }).errorMessage);
    }
  } catch {
    // A plain message (local runtime, or a States.* error).
  }
  const reason = /^\[([a-z_]+)\]\s*/.exec(message);
  const known = ownValue(CODE_BY_ERROR_NAME, errorName);
  const errorCode = reason?.[1] ?? known ?? 'internal_error';
  const safeMessage =
    known || reason
      ? message.replace(/^\[[a-z_]+\]\s*/, '')
      : 'the task failed unexpectedly; see the execution history';
  return {
    error_code: errorCode,
    error_message: (safeMessage || errorName).slice(0, MAX_MESSAGE),
    error_name: errorName,
  };
}
