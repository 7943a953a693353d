import * as z from 'zod/mini';
import { ConfigurationError } from '../core/errors';
import { sweepStuckRuns } from '../core/stuck-run-sweep';
import { lambdaHandler } from './lambda-handler';
import { parseTaskInput, type TaskFactory } from './task-input';

/** The schedule may pass a minimum age; otherwise STUCK_RUN_MIN_AGE_SECONDS applies. */
const SweepInputSchema = z.nullish(
  z.looseObject({ min_age_seconds: z.optional(z.number().check(z.int(), z.gte(0), z.lte(86_400))) }),
);

/** Records runs still marked running whose workflow execution has ended or overrun its bounds. */
export const createSweepStuckRunsTask: TaskFactory = (dependencies) => async (input) => {
  const { orchestrator } = dependencies;
  if (!orchestrator) {
    throw new ConfigurationError('the stuck-run sweep needs the orchestrator (the state machine ARNs)', [
      { field: 'SCAN_STATE_MACHINE_ARN', message: 'expected the state machine ARNs' },
    ]);
  }
  const parsed = parseTaskInput(SweepInputSchema, input);
  return sweepStuckRuns(
    { ...dependencies, orchestrator },
    { minAgeSeconds: parsed?.min_age_seconds ?? dependencies.settings.stuckRunMinAgeSeconds },
  );
};

export const handler = lambdaHandler(createSweepStuckRunsTask);
