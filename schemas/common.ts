import * as z from 'zod/mini';
import './zod-locale';

/** How much of a client's value an error message repeats. */
export const QUOTED_INPUT_MAX = 64;

/**
 * A client's value as an error message may repeat it: single-quoted, at most QUOTED_INPUT_MAX
 * characters (the rest counted, not shown), control characters, quotes and markup characters
 * escaped, so a message never carries a client's 5,000 characters or a live `<svg onload=…>`.
 */
export function quoted(value: unknown, max = QUOTED_INPUT_MAX): string {
  const text = typeof value === 'string' ? value : String(value);
  const characters = Array.from(text);
  const shown = characters.length > max ? characters.slice(0, max).join('') : text;
  const escaped = JSON.stringify(shown)
    .slice(1, -1)
    .replace(/\\"/g, '"')
    .replace(/['<>&`]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `'${escaped}'${characters.length > max ? `…(${characters.length} characters)` : ''}`;
}

const PLAIN_FIELD_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A field name a client chose (an unknown key): as is when plain, else quoted like a value. */
export function fieldName(key: PropertyKey): string {
  const text = String(key);
  return PLAIN_FIELD_NAME.test(text) ? text : quoted(text);
}

/** The dotted path of a zod issue, each client-chosen segment passed through {@link fieldName}. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map(fieldName).join('.');
}

/** Legacy rows hold naive UTC timestamps (`2024-05-01T10:00:00.123456`); new writes end in `Z`. */
const NAIVE_OR_ZONED_TIMESTAMP =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Parses a legacy naive timestamp (taken as UTC) or an ISO-8601 timestamp with a zone. */
export function parseTimestamp(value: string): Date | undefined {
  if (!NAIVE_OR_ZONED_TIMESTAMP.test(value)) return undefined;
  const normalized = value.replace(' ', 'T');
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(normalized);
  // JavaScript keeps milliseconds only; Python wrote microseconds.
  const trimmed = normalized.replace(/(\.\d{3})\d+/, '$1');
  const date = new Date(hasZone ? trimmed : `${trimmed}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** ISO-8601 UTC with `Z`, millisecond precision: the only shape this service writes. */
export function toIsoUtc(date: Date): string {
  return date.toISOString();
}

/** Accepts both timestamp shapes on read and normalizes to ISO-8601 UTC with `Z`. */
export const TimestampSchema = z.pipe(
  z.string(),
  z.transform((value: string, ctx) => {
    const date = parseTimestamp(value);
    if (!date) {
      ctx.issues.push({ code: 'custom', message: 'expected an ISO-8601 timestamp', input: value });
      return z.NEVER;
    }
    return toIsoUtc(date);
  }),
);

/** A timestamp as it must be written: ISO-8601 UTC ending in `Z`. */
export const IsoUtcTimestampSchema = z.iso.datetime({
  offset: false,
  message: 'expected an ISO-8601 UTC timestamp ending in Z',
});

export const IdSchema = z
  .string()
  .check(
    z.minLength(1, 'must not be empty'),
    z.maxLength(128, 'must be at most 128 characters'),
    z.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'may hold letters, digits, ".", "_", ":" and "-" only'),
  );

export const ProviderTypeSchema = z.enum(['aws', 'azure', 'gcp', 'alicloud', 'oci', 'ibm']);
export type ProviderType = z.infer<typeof ProviderTypeSchema>;
export const PROVIDER_TYPES = ProviderTypeSchema.options;

/** Free text that ends up in a console or a UI: bounded, no control characters. */
export const DisplayTextSchema = (max: number) =>
  z.string().check(
    z.trim(),
    z.maxLength(max, `must be at most ${max} characters`),
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    z.regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters'),
  );

/**
 * `schema` with a description for the OpenAPI document (classic zod's `.describe`): a copy, so the
 * shared schema it starts from stays undescribed.
 */
export function described<Schema extends z.ZodMiniType>(schema: Schema, description: string): Schema {
  const copy = schema.clone();
  z.globalRegistry.add(copy, { description });
  return copy;
}

/** `fn` applied to the input before `schema` parses it (classic zod's `z.preprocess`). */
export function preprocessed<Schema extends z.core.$ZodType>(
  fn: (value: unknown) => unknown,
  schema: Schema,
) {
  return z.pipe(z.transform(fn), schema);
}
