import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export interface Me {
  subject: string;
  tenant_id: string | null;
  role: string;
  may: { operate: boolean; administer_tenant: boolean; administer_platform: boolean };
}

export interface Tenant {
  tenant_id: string;
  tenant_name: string;
}

export interface AppState {
  me: Me;
  /** The tenant looked at; null: every tenant (platform administrators only). */
  tenantId: string | null;
  tenants: Tenant[];
  navigate: (hash: string) => void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error('useApp outside the signed-in console');
  return state;
}

/** The tenant ids a page lists: the chosen one, or every tenant the operator may see. */
export function tenantIdsOf(state: AppState): string[] {
  if (state.tenantId) return [state.tenantId];
  if (state.me.tenant_id) return [state.me.tenant_id];
  return state.tenants.map((tenant) => tenant.tenant_id);
}
