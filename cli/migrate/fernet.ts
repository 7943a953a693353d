import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Fernet decryption (https://github.com/fernet/spec, version 0x80), as Python's `cryptography`
 * wrote the legacy credentials: HMAC-SHA256 over version ‖ timestamp ‖ IV ‖ ciphertext, checked
 * in constant time before AES-128-CBC with PKCS#7 padding is undone. Built on node:crypto; only
 * the token layout is written here.
 */

/** A token that does not decrypt under the key: the reason is safe to print (never a value). */
export class FernetTokenError extends Error {
  override readonly name = 'FernetTokenError';
}

/** A key that is not 32 bytes of URL-safe base64 (the error never repeats the key). */
export class FernetKeyError extends Error {
  override readonly name = 'FernetKeyError';
}

const VERSION = 0x80;
const HEADER_BYTES = 1 + 8 + 16;
const HMAC_BYTES = 32;
const MAX_CLOCK_SKEW_SECONDS = 60;
const URLSAFE_BASE64 = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeUrlSafeBase64(text: string): Buffer | undefined {
  if (!URLSAFE_BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64url');
}

export interface FernetKey {
  signingKey: Buffer;
  encryptionKey: Buffer;
}

/** Parses a Fernet key: 32 bytes, URL-safe base64 (padding optional). */
export function parseFernetKey(text: string): FernetKey {
  const bytes = decodeUrlSafeBase64(text.trim());
  if (bytes?.length !== 32) {
    throw new FernetKeyError('the key is not a Fernet key (32 bytes of URL-safe base64)');
  }
  return { signingKey: bytes.subarray(0, 16), encryptionKey: bytes.subarray(16) };
}

export interface FernetDecryptOptions {
  /** With a TTL, a token older than this (or too far in the future) is refused; legacy tokens have none. */
  ttlSeconds?: number;
  now?: Date;
}

/** Decrypts a token (text, or the bytes of its text as BYTEA held it) to the plaintext bytes. */
export function decryptFernet(
  token: string | Uint8Array,
  key: FernetKey,
  options: FernetDecryptOptions = {},
): Buffer {
  const text = typeof token === 'string' ? token : Buffer.from(token).toString('latin1');
  const data = decodeUrlSafeBase64(text);
  if (!data) throw new FernetTokenError('the token is not URL-safe base64');
  if (data.length < HEADER_BYTES + 16 + HMAC_BYTES || data[0] !== VERSION) {
    throw new FernetTokenError('the token is too short or not Fernet version 0x80');
  }
  const signed = data.subarray(0, data.length - HMAC_BYTES);
  const mac = data.subarray(data.length - HMAC_BYTES);
  const expected = createHmac('sha256', key.signingKey).update(signed).digest();
  if (!timingSafeEqual(mac, expected)) {
    throw new FernetTokenError('the token signature does not match the key (wrong key or altered token)');
  }
  const timestamp = Number(data.readBigUInt64BE(1));
  if (options.ttlSeconds !== undefined) {
    const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
    if (timestamp + options.ttlSeconds < now) throw new FernetTokenError('the token has expired');
    if (now + MAX_CLOCK_SKEW_SECONDS < timestamp) {
      throw new FernetTokenError('the token is dated too far in the future');
    }
  }
  const ciphertext = data.subarray(HEADER_BYTES, data.length - HMAC_BYTES);
  if (ciphertext.length % 16 !== 0) throw new FernetTokenError('the ciphertext is not whole AES blocks');
  try {
    const decipher = createDecipheriv('aes-128-cbc', key.encryptionKey, data.subarray(9, HEADER_BYTES));
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new FernetTokenError('the token padding is invalid');
  }
}
