import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLES } from '../../../schemas/tables';
import { type Clock, systemClock } from '../clock';
import { DynamoDbTable, type Item } from './dynamodb-table';

export interface TenantScanSlotsOptions {
  client: DynamoDBDocumentClient;
  /** The claims table: one item per tenant, `tenant-scans#<tenant id>`. */
  tableName: string;
  clock?: Clock;
}

export type SlotOutcome = { admitted: true } | { admitted: false; position: number };

interface SlotsItem {
  running: Record<string, number>;
  waiting: Record<string, { ticket: number; expires: number }>;
  nextTicket: number;
  version: number | undefined;
}

const MAX_ATTEMPTS = 8;

/**
 * The bound on one tenant's scans running at once, the others waiting in order. One item per
 * tenant holds the running scans and the waiting ones (each with a ticket, taken on its first
 * try), written with optimistic concurrency (a version number). A run is admitted when fewer than
 * `bound` scans run and no live waiter holds an older ticket. Every entry is a lease: a run that
 * died without releasing (never in the normal paths, which all release) stops counting once its
 * lease ends, and a waiter that stopped asking loses its turn, so nothing can wedge the tenant.
 */
export class TenantScanSlots {
  private readonly table: DynamoDbTable;
  private readonly clock: Clock;

  constructor(options: TenantScanSlotsOptions) {
    this.table = new DynamoDbTable(options.client, options.tableName, TABLES.claims);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Admits `owner` (or keeps it admitted), else queues it (or keeps its place, refreshing its
   * lease). `runLeaseSeconds` bounds how long an unreleased run counts; `waitLeaseSeconds` how long
   * a waiter keeps its place without asking again.
   */
  async acquire(
    tenantId: string,
    owner: string,
    bound: number,
    leases: { runLeaseSeconds: number; waitLeaseSeconds: number },
  ): Promise<SlotOutcome> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const now = Math.floor(this.clock().getTime() / 1000);
      const slots = this.live(await this.read(tenantId), now);
      if (Object.hasOwn(slots.running, owner)) return { admitted: true };
      const mine = Object.hasOwn(slots.waiting, owner) ? slots.waiting[owner] : undefined;
      const ticket = mine?.ticket ?? slots.nextTicket;
      const ahead = Object.values(slots.waiting).filter((waiter) => waiter.ticket < ticket).length;
      const admitted = Object.keys(slots.running).length < bound && ahead === 0;
      if (!admitted && mine && mine.expires - now > leases.waitLeaseSeconds / 2) {
        return { admitted: false, position: ahead + 1 };
      }
      const next: SlotsItem = {
        running: { ...slots.running },
        waiting: { ...slots.waiting },
        nextTicket: mine ? slots.nextTicket : slots.nextTicket + 1,
        version: slots.version,
      };
      if (admitted) {
        next.running[owner] = now + leases.runLeaseSeconds;
        delete next.waiting[owner];
      } else {
        next.waiting[owner] = { ticket, expires: now + leases.waitLeaseSeconds };
      }
      if (await this.write(tenantId, next))
        return admitted ? { admitted: true } : { admitted: false, position: ahead + 1 };
    }
    // Heavy contention on the tenant's item: stay queued and ask again on the next turn.
    return { admitted: false, position: 0 };
  }

  /** Frees `owner`'s running place or waiting place; idempotent. */
  async release(tenantId: string, owner: string): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const slots = await this.read(tenantId);
      if (!Object.hasOwn(slots.running, owner) && !Object.hasOwn(slots.waiting, owner)) return;
      const now = Math.floor(this.clock().getTime() / 1000);
      const next = this.live(slots, now);
      delete next.running[owner];
      delete next.waiting[owner];
      if (await this.write(tenantId, next)) return;
    }
  }

  private async read(tenantId: string): Promise<SlotsItem> {
    const item = await this.table.get({ claim_id: claimIdOf(tenantId) });
    return {
      running: (item?.running as SlotsItem['running'] | undefined) ?? {},
      waiting: (item?.waiting as SlotsItem['waiting'] | undefined) ?? {},
      nextTicket: typeof item?.next_ticket === 'number' ? item.next_ticket : 0,
      version: typeof item?.version === 'number' ? item.version : undefined,
    };
  }

  /** Without the entries whose lease has ended. */
  private live(slots: SlotsItem, now: number): SlotsItem {
    return {
      ...slots,
      running: Object.fromEntries(Object.entries(slots.running).filter(([, expires]) => expires > now)),
      waiting: Object.fromEntries(Object.entries(slots.waiting).filter(([, waiter]) => waiter.expires > now)),
    };
  }

  private write(tenantId: string, slots: SlotsItem): Promise<boolean> {
    const item: Item = {
      claim_id: claimIdOf(tenantId),
      owner: 'tenant-scan-slots',
      created_at: new Date(this.clock().getTime()).toISOString(),
      running: slots.running,
      waiting: slots.waiting,
      next_ticket: slots.nextTicket,
      version: (slots.version ?? 0) + 1,
    };
    return this.table.put(
      item,
      slots.version === undefined
        ? { expression: 'attribute_not_exists(#id)', names: { '#id': 'claim_id' } }
        : {
            expression: '#version = :version',
            names: { '#version': 'version' },
            values: { ':version': slots.version },
          },
    );
  }
}

const claimIdOf = (tenantId: string) => `tenant-scans#${tenantId}`;
