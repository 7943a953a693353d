import { createHash, randomUUID } from 'node:crypto';

/** A fresh random id (UUID v4), the shape legacy ids have. */
export function newId(): string {
  return randomUUID();
}

/**
 * A UUID-shaped id derived from a name (RFC 4122 version-5 layout over SHA-256): the same name
 * always gives the same id, which makes conditional writes on it idempotency keys.
 */
export function deterministicId(namespace: string, name: string): string {
  const hash = createHash('sha256').update(`${namespace}\u0000${name}`).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
