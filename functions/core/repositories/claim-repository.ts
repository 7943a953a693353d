import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { TimestampSchema, toIsoUtc } from '../../../schemas/common';
import { TABLES } from '../../../schemas/tables';
import { type Clock, systemClock } from '../clock';
import { ConflictError } from '../errors';
import { DynamoDbTable } from './dynamodb-table';
import { parseStored } from './stored-item';

/** A claim item: one owner holds one claim id (a unique name, an idempotency key, …). */
export const ClaimSchema = z.looseObject({
  claim_id: z.string().check(z.minLength(1)),
  owner: z.string().check(z.minLength(1)),
  attributes: z.optional(z.record(z.string(), z.unknown())),
  created_at: TimestampSchema,
  /** Epoch seconds after which the claim is void (the table's TTL attribute cleans up later). */
  expires_at_epoch: z.optional(z.number().check(z.int())),
});
export type Claim = z.infer<typeof ClaimSchema>;

export interface ClaimResult {
  claim: Claim;
  /** False when the same owner already held the claim (an idempotent repeat). */
  created: boolean;
}

export interface ClaimOptions {
  /** The claim is void after this instant (expiry is checked on claim; TTL only tidies up). */
  expiresAt?: Date;
}

export interface ClaimRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
}

const MAX_CLAIM_ATTEMPTS = 3;

/**
 * Generic claims on the claims table, atomic through single-item conditional writes: used for
 * case-insensitive tenant-name uniqueness and for API idempotency records.
 */
export class ClaimRepository {
  private readonly table: DynamoDbTable;
  private readonly clock: Clock;

  constructor(options: ClaimRepositoryOptions) {
    this.table = new DynamoDbTable(options.client, options.tableName, TABLES.claims);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Takes `claimId` for `owner`. Held by the same owner: returns it (`created: false`); held by
   * another owner: ConflictError on `claim_id`. An expired claim is taken over.
   */
  async claim(
    claimId: string,
    owner: string,
    attributes?: Record<string, unknown>,
    options: ClaimOptions = {},
  ): Promise<ClaimResult> {
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt += 1) {
      const now = this.clock();
      const item = {
        claim_id: claimId,
        owner,
        ...(attributes ? { attributes } : {}),
        created_at: toIsoUtc(now),
        ...(options.expiresAt ? { expires_at_epoch: Math.floor(options.expiresAt.getTime() / 1000) } : {}),
      };
      const written = await this.table.put(item, {
        expression: 'attribute_not_exists(#id) OR #expires < :now',
        names: { '#id': 'claim_id', '#expires': 'expires_at_epoch' },
        values: { ':now': Math.floor(now.getTime() / 1000) },
      });
      if (written) return { claim: parseStored(ClaimSchema, item, 'claim', 'claim_id'), created: true };

      const existing = await this.get(claimId);
      if (!existing) continue; // Released between our write and our read: try again.
      if (existing.owner === owner) return { claim: existing, created: false };
      throw new ConflictError(`claim ${claimId} is held by another owner`, 'claim_id');
    }
    throw new ConflictError(`claim ${claimId} kept changing hands; try again`, 'claim_id');
  }

  /**
   * Adds 1 to the counter `counterId` (created at 0 when missing) with one atomic ADD and returns
   * the new count: a fixed-window rate limit keys it by window (`rate#<scope>#<window start>`) and
   * lets the table's TTL remove it after `expiresAt`. Counters are not claims (no owner).
   */
  async increment(counterId: string, options: ClaimOptions = {}): Promise<number> {
    const updated = await this.table.update(
      { claim_id: counterId },
      {
        add: { count: 1 },
        ...(options.expiresAt
          ? { set: { expires_at_epoch: Math.floor(options.expiresAt.getTime() / 1000) } }
          : {}),
      },
    );
    const count = updated?.count;
    return typeof count === 'number' ? count : 1;
  }

  async get(claimId: string): Promise<Claim | undefined> {
    const item = await this.table.get({ claim_id: claimId });
    return item ? parseStored(ClaimSchema, item, 'claim', 'claim_id') : undefined;
  }

  /**
   * Releases a claim the owner holds: true when it was deleted, false when there was none
   * (idempotent); ConflictError on `claim_id` when another owner holds it.
   */
  async release(claimId: string, owner: string): Promise<boolean> {
    const deleted = await this.table.delete(
      { claim_id: claimId },
      {
        expression: 'attribute_not_exists(#id) OR #owner = :owner',
        names: { '#id': 'claim_id', '#owner': 'owner' },
        values: { ':owner': owner },
      },
    );
    if (deleted) return true;
    const existing = await this.get(claimId);
    if (existing && existing.owner !== owner) {
      throw new ConflictError(`claim ${claimId} is held by another owner and cannot be released`, 'claim_id');
    }
    return false;
  }
}
