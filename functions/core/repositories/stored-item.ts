import type * as z from 'zod/mini';
import { fieldName, fieldPath } from '../../../schemas/common';
import { type FieldIssue, ValidationError } from '../errors';

/**
 * A stored item that does not match its entity schema: the data, not the caller, is at fault
 * (so this is not a DomainError and maps to an internal error). Only field names are reported,
 * never values.
 */
export class StoredItemError extends Error {
  override readonly name = 'StoredItemError';
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly issues: FieldIssue[],
    options?: ErrorOptions,
  ) {
    super(
      `stored ${entity} ${id} does not match its schema: ${issues.map((issue) => issue.field).join(', ')}`,
      options,
    );
  }
}

const toIssues = (error: z.core.$ZodError, rootField = '(item)'): FieldIssue[] =>
  error.issues.flatMap((issue) => {
    const path = fieldPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      // One issue per unknown field, named by the field (the value is never echoed).
      return issue.keys.map((key) => ({
        field: path ? `${path}.${fieldName(key)}` : fieldName(key),
        message: 'is not a known field',
      }));
    }
    return [{ field: path || rootField, message: issue.message }];
  });

/** Parses an item read from a table (legacy naive timestamps come out as ISO-8601 UTC with `Z`). */
export function parseStored<Schema extends z.ZodMiniType>(
  schema: Schema,
  item: Record<string, unknown>,
  entity: string,
  idAttribute: string,
): z.infer<Schema> {
  const result = schema.safeParse(item);
  if (result.success) return result.data;
  const id = typeof item[idAttribute] === 'string' ? (item[idAttribute] as string) : '(unknown)';
  throw new StoredItemError(entity, id, toIssues(result.error), { cause: result.error });
}

/**
 * Parses what a caller asks to write; a violation is a ValidationError naming each field
 * (`rootField` names the value itself when the schema is not an object).
 */
export function parseInput<Schema extends z.ZodMiniType>(
  schema: Schema,
  input: unknown,
  entity: string,
  rootField?: string,
): z.infer<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = toIssues(result.error, rootField);
  throw new ValidationError(
    `invalid ${entity}: ${issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')}`,
    issues,
    { cause: result.error },
  );
}
