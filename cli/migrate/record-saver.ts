import { ConflictError, ValidationError } from '../../functions/core/errors';
import type { Item } from '../../functions/core/repositories/dynamodb-table';
import type { MigratedEntity } from '../../functions/core/repositories/migrated-record-repository';
import { StoredItemError } from '../../functions/core/repositories/stored-item';
import { LegacyRecordError } from './legacy-records';
import type { MigrationMode, ReportBuilder } from './migration-report';
import type { MigrationTarget } from './migration-target';

/** Why a record failed, in words that name fields and causes only; undefined for a failure of the target itself. */
export function failureReason(error: unknown): string | undefined {
  if (error instanceof LegacyRecordError) return error.message;
  if (error instanceof StoredItemError) {
    return `does not read under the ${error.entity} schema: ${error.issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')}`;
  }
  if (error instanceof ConflictError || error instanceof ValidationError) return error.message;
  return undefined;
}

/**
 * Saves one expected record in the mode of the run: migrate writes it (created, updated or
 * unchanged), dry-run only counts what it would do, verify compares it with the stored item.
 */
export function createRecordSaver(target: MigrationTarget, report: ReportBuilder, mode: MigrationMode) {
  return async (
    table: string,
    entity: MigratedEntity,
    id: string,
    record: Item,
    runtimeFields?: readonly string[],
    inPlace = false,
  ): Promise<void> => {
    const prepared = target.records.prepare(entity, record);
    const compareOptions = { inPlace, ...(runtimeFields ? { runtimeFields } : {}) };
    if (mode === 'verify') {
      const stored = await target.records.get(entity, id);
      const comparison = target.records.compare(entity, prepared, stored, compareOptions);
      if (!stored) report.problem(table, id, 'missing', 'missing in the target');
      else if (comparison.outcome === 'unchanged') report.count(table, 'matched');
      else {
        report.problem(
          table,
          id,
          'mismatched',
          `differs from the source in ${comparison.differences.join(', ')}`,
        );
      }
      return;
    }
    const comparison = await target.records.save(entity, prepared, {
      dryRun: mode === 'dry-run',
      ...compareOptions,
    });
    report.count(table, comparison.outcome);
  };
}
