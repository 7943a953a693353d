import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableNames } from '../../../schemas/tables';
import type { Clock } from '../clock';
import { AccountRepository } from './account-repository';
import { ClaimRepository } from './claim-repository';
import { ExecutionRepository } from './execution-repository';
import { ProviderRepository } from './provider-repository';
import { ScanResultRepository } from './scan-result-repository';
import { ScheduleRepository } from './schedule-repository';
import { TenantRepository } from './tenant-repository';
import { TenantScanSlots } from './tenant-scan-slots';

export interface Repositories {
  tenants: TenantRepository;
  providers: ProviderRepository;
  accounts: AccountRepository;
  schedules: ScheduleRepository;
  executions: ExecutionRepository;
  scanResults: ScanResultRepository;
  claims: ClaimRepository;
  tenantScanSlots: TenantScanSlots;
}

/** Every repository over one document client: the same code on DynamoDB and on the local server. */
export function createRepositories(
  client: DynamoDBDocumentClient,
  tables: TableNames,
  clock?: Clock,
): Repositories {
  const options = (tableName: string) => ({ client, tableName, ...(clock ? { clock } : {}) });
  return {
    tenants: new TenantRepository({ ...options(tables.tenants), claimsTableName: tables.claims }),
    providers: new ProviderRepository(options(tables.providers)),
    accounts: new AccountRepository({ ...options(tables.accounts), providersTableName: tables.providers }),
    schedules: new ScheduleRepository(options(tables.schedules)),
    executions: new ExecutionRepository(options(tables.executions)),
    scanResults: new ScanResultRepository(options(tables.scanResults)),
    claims: new ClaimRepository(options(tables.claims)),
    tenantScanSlots: new TenantScanSlots(options(tables.claims)),
  };
}
