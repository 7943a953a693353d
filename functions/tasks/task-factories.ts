import { createClaimScanTask } from './claim-scan';
import { createCompleteOnboardingTask } from './complete-onboarding';
import { createCompleteScanTask } from './complete-scan';
import { createCreateFirstScheduleTask } from './create-first-schedule';
import { createFailOnboardingTask } from './fail-onboarding';
import { createFailScanTask } from './fail-scan';
import { createPollScanTask } from './poll-scan';
import { createPromoteCredentialsTask } from './promote-credentials';
import { createRecordTerminatedExecutionTask } from './record-terminated-execution';
import { createRecordValidationFailureTask } from './record-validation-failure';
import { createStartScanTask } from './start-scan';
import { createSweepStuckRunsTask } from './sweep-stuck-runs';
import type { SERVICE_TASKS, TaskToken } from './task-catalog';
import type { TaskFactory } from './task-input';
import { createVerifyStagedCredentialsTask } from './verify-staged-credentials';
import { createVerifyStoredCredentialsTask } from './verify-stored-credentials';

/**
 * The same handlers the Lambda functions export, keyed by the resource token the workflow
 * definitions name: what a runtime that is not AWS (the local one) invokes for each Task state.
 */
export const TASK_FACTORIES: Record<TaskToken | (typeof SERVICE_TASKS)[number]['token'], TaskFactory> = {
  ClaimScanFunctionArn: createClaimScanTask,
  VerifyStoredCredentialsFunctionArn: createVerifyStoredCredentialsTask,
  StartScanFunctionArn: createStartScanTask,
  PollScanFunctionArn: createPollScanTask,
  CompleteScanFunctionArn: createCompleteScanTask,
  FailScanFunctionArn: createFailScanTask,
  VerifyStagedCredentialsFunctionArn: createVerifyStagedCredentialsTask,
  PromoteCredentialsFunctionArn: createPromoteCredentialsTask,
  CompleteOnboardingFunctionArn: createCompleteOnboardingTask,
  CreateFirstScheduleFunctionArn: createCreateFirstScheduleTask,
  FailOnboardingFunctionArn: createFailOnboardingTask,
  RecordValidationFailureFunctionArn: createRecordValidationFailureTask,
  RecordTerminatedExecutionFunctionArn: createRecordTerminatedExecutionTask,
  SweepStuckRunsFunctionArn: createSweepStuckRunsTask,
};
