import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../functions/core/errors';
import { ClaimRepository } from '../../../functions/core/repositories/claim-repository';
import { startTestTables, type TestTables } from '../../support/dynalite';

const T0 = Date.parse('2031-03-01T09:00:00.000Z');

describe('Class: ClaimRepository', () => {
  let env: TestTables;
  let claims: ClaimRepository;
  let now = T0;

  beforeAll(async () => {
    env = await startTestTables();
    claims = new ClaimRepository({
      client: env.client,
      tableName: env.tables.claims,
      clock: () => new Date(now),
    });
  });
  afterAll(async () => {
    await env.close();
  });

  it('claims once, returns the claim to the same owner and refuses another owner', async () => {
    // Act
    const first = await claims.claim('idempotency#abc', 'owner-a', { request_hash: 'h1' });
    const again = await claims.claim('idempotency#abc', 'owner-a');
    const other = claims.claim('idempotency#abc', 'owner-b');

    // Assess
    expect(first).toMatchObject({
      created: true,
      claim: { owner: 'owner-a', attributes: { request_hash: 'h1' } },
    });
    expect(again).toMatchObject({
      created: false,
      claim: { owner: 'owner-a', attributes: { request_hash: 'h1' } },
    });
    await expect(other).rejects.toMatchObject({ name: 'ConflictError', field: 'claim_id' });
  });

  it('gives a claim to exactly one of 10 concurrent owners', async () => {
    // Act
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => claims.claim('contended#1', `owner-${i}`)),
    );

    // Assess
    const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toHaveLength(9);
    const stored = await claims.get('contended#1');
    expect(winners[0]?.status === 'fulfilled' && winners[0].value.claim.owner).toBe(stored?.owner);
  });

  it('releases only for the owner, idempotently', async () => {
    // Prepare
    await claims.claim('release#1', 'owner-a');

    // Act / Assess
    await expect(claims.release('release#1', 'owner-b')).rejects.toBeInstanceOf(ConflictError);
    expect(await claims.release('release#1', 'owner-a')).toBe(true);
    expect(await claims.release('release#1', 'owner-a')).toBe(false);
    expect(await claims.get('release#1')).toBeUndefined();
  });

  it('lets another owner take over an expired claim', async () => {
    // Prepare
    await claims.claim('expiring#1', 'owner-a', undefined, { expiresAt: new Date(now + 60_000) });
    await expect(claims.claim('expiring#1', 'owner-b')).rejects.toBeInstanceOf(ConflictError);
    now += 120_000;

    // Act
    const taken = await claims.claim('expiring#1', 'owner-b');

    // Assess
    expect(taken).toMatchObject({ created: true, claim: { owner: 'owner-b' } });
  });
});
