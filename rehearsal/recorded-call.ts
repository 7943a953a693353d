/** One AWS SDK call as a rehearsed function made it (credential values removed). */
export interface RecordedAwsCall {
  /** The SDK client, e.g. `DynamoDBClient`. */
  client: string;
  /** The operation, e.g. `PutItem`. */
  operation: string;
  input: Record<string, unknown>;
  /** What the stand-in answered (redacted), absent when the call failed. */
  output?: Record<string, unknown>;
  /** The error name the SDK raised, when the call failed. */
  error?: string;
  /** The access key id the request was signed with (the function's own, or a customer's). */
  accessKeyId: string;
}

/** Fields never carried out of a function: credential values and stored items. */
const REDACTED_FIELDS = new Set([
  'SecretString',
  'SecretBinary',
  'Item',
  'Items',
  'Attributes',
  'ExpressionAttributeValues',
  'Credentials',
  'SessionToken',
  'SecretAccessKey',
  'input',
  'output',
  'Input',
]);

/** A deep copy without the redacted fields (their presence is kept as `true`). */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 12) return '…';
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      REDACTED_FIELDS.has(key) ? item !== undefined : redact(item, depth + 1),
    ]),
  );
}
