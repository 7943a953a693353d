import type { Command } from 'commander';
import { contextOf, pageOptions, printNextPage } from '../command-context';
import { printFields, printJson, printTable, status, when } from '../output';

interface TenantView {
  tenant_id: string;
  tenant_name: string;
  description: string | null;
  status: string;
  created_at: string;
  updated_at: string;
}

/** `threat-engine tenants list|create` (platform admins). */
export function registerTenantsCommand(program: Command): void {
  const tenants = program.command('tenants').description('tenants (platform admins)');

  pageOptions(tenants.command('list').description('list the tenants')).action(
    async (options: { limit: number; cursor?: string }, command: Command) => {
      const { api, json } = contextOf(command);
      const page = await api.get<{ tenants: TenantView[]; next_cursor: string | null }>('/tenants', {
        limit: options.limit,
        cursor: options.cursor,
      });
      if (json) return printJson(page);
      printTable(
        ['TENANT ID', 'NAME', 'STATUS', 'CREATED'],
        page.tenants.map((tenant) => [
          tenant.tenant_id,
          tenant.tenant_name,
          status(tenant.status),
          when(tenant.created_at),
        ]),
        'no tenants',
      );
      printNextPage(page.next_cursor);
    },
  );

  tenants
    .command('create')
    .description('create a tenant')
    .argument('<name>', 'the tenant name')
    .option('--description <text>', 'what the tenant is')
    .action(async (name: string, options: { description?: string }, command: Command) => {
      const { api, json } = contextOf(command);
      const tenant = await api.post<TenantView>('/tenants', {
        tenant_name: name,
        ...(options.description !== undefined ? { description: options.description } : {}),
      });
      if (json) return printJson(tenant);
      printFields([
        ['tenant', tenant.tenant_id],
        ['name', tenant.tenant_name],
        ['status', status(tenant.status)],
        ['created', when(tenant.created_at)],
      ]);
    });
}
