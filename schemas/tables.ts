import type { Config, TABLE_NAME_VARIABLES } from './config';

/**
 * The DynamoDB tables, written once: the local runtime creates them from these definitions and
 * the CDK app declares them from the same objects. The first six are the legacy tables (names,
 * keys and GSIs must stay as they are: their users have data in them); `claims` is new.
 * Every key attribute is a string and every GSI projects ALL, as in the legacy tables.
 */

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S';
}

export interface GlobalSecondaryIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly projection: 'ALL';
}

export interface TableDefinition {
  readonly logicalName: TableLogicalName;
  readonly defaultName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly globalSecondaryIndexes: readonly GlobalSecondaryIndexDefinition[];
  /** Tables that existed in the legacy system (and may be adopted by name). */
  readonly legacy: boolean;
  /** Attribute that may carry an epoch-seconds TTL on AWS (never relied on for correctness). */
  readonly timeToLiveAttribute?: string;
}

export type TableLogicalName = keyof typeof TABLE_NAME_VARIABLES;

const key = (name: string): KeyAttribute => ({ name, type: 'S' });
const gsi = (indexName: string, partitionKey: string, sortKey?: string): GlobalSecondaryIndexDefinition =>
  sortKey === undefined
    ? { indexName, partitionKey: key(partitionKey), projection: 'ALL' }
    : { indexName, partitionKey: key(partitionKey), sortKey: key(sortKey), projection: 'ALL' };

export const INDEX = {
  tenantName: 'tenant-name-index',
  tenantProvider: 'tenant-provider-index',
  tenantAccounts: 'tenant-accounts-index',
  providerAccounts: 'provider-accounts-index',
  tenantSchedules: 'tenant-schedules-index',
  accountSchedules: 'account-schedules-index',
  nextRun: 'next-run-index',
  scheduleExecutions: 'schedule-executions-index',
  accountExecutions: 'account-executions-index',
  accountScans: 'account-scans-index',
  statusScans: 'status-scans-index',
} as const;

export const TABLES = {
  tenants: {
    logicalName: 'tenants',
    defaultName: 'threat-engine-tenants',
    partitionKey: key('tenant_id'),
    globalSecondaryIndexes: [gsi(INDEX.tenantName, 'tenant_name')],
    legacy: true,
  },
  providers: {
    logicalName: 'providers',
    defaultName: 'threat-engine-providers',
    partitionKey: key('provider_id'),
    globalSecondaryIndexes: [gsi(INDEX.tenantProvider, 'tenant_id', 'provider_type')],
    legacy: true,
  },
  accounts: {
    logicalName: 'accounts',
    defaultName: 'threat-engine-accounts',
    partitionKey: key('account_id'),
    globalSecondaryIndexes: [
      gsi(INDEX.tenantAccounts, 'tenant_id', 'status'),
      gsi(INDEX.providerAccounts, 'provider_id', 'status'),
    ],
    legacy: true,
  },
  schedules: {
    logicalName: 'schedules',
    defaultName: 'threat-engine-schedules',
    partitionKey: key('schedule_id'),
    globalSecondaryIndexes: [
      gsi(INDEX.tenantSchedules, 'tenant_id', 'schedule_id'),
      gsi(INDEX.accountSchedules, 'account_id', 'schedule_id'),
      // Legacy polling index: kept so adopted tables keep their shape; this service never polls it.
      gsi(INDEX.nextRun, 'enabled', 'next_run_at'),
    ],
    legacy: true,
  },
  executions: {
    logicalName: 'executions',
    defaultName: 'threat-engine-executions',
    partitionKey: key('execution_id'),
    globalSecondaryIndexes: [
      gsi(INDEX.scheduleExecutions, 'schedule_id', 'started_at'),
      gsi(INDEX.accountExecutions, 'account_id', 'started_at'),
    ],
    legacy: true,
    timeToLiveAttribute: 'expires_at_epoch',
  },
  scanResults: {
    logicalName: 'scanResults',
    defaultName: 'threat-engine-scan-results',
    partitionKey: key('scan_id'),
    globalSecondaryIndexes: [
      gsi(INDEX.accountScans, 'account_id', 'started_at'),
      gsi(INDEX.statusScans, 'status', 'started_at'),
    ],
    legacy: true,
  },
  claims: {
    logicalName: 'claims',
    defaultName: 'threat-engine-claims',
    partitionKey: key('claim_id'),
    globalSecondaryIndexes: [],
    legacy: false,
    timeToLiveAttribute: 'expires_at_epoch',
  },
} as const satisfies Record<TableLogicalName, TableDefinition>;

export const TABLE_DEFINITIONS: readonly TableDefinition[] = Object.values(TABLES);

export type TableNames = Record<TableLogicalName, string>;

/** The physical table names a configuration selects. */
export function tableNamesFrom(
  config: Pick<Config, (typeof TABLE_NAME_VARIABLES)[TableLogicalName]>,
): TableNames {
  return {
    tenants: config.DYNAMODB_TENANTS_TABLE,
    providers: config.DYNAMODB_PROVIDERS_TABLE,
    accounts: config.DYNAMODB_ACCOUNTS_TABLE,
    schedules: config.DYNAMODB_SCHEDULES_TABLE,
    executions: config.DYNAMODB_EXECUTIONS_TABLE,
    scanResults: config.DYNAMODB_SCAN_RESULTS_TABLE,
    claims: config.DYNAMODB_CLAIMS_TABLE,
  };
}
