/** The console's routes, read from the URL fragment (`#/runs`, `#/runs/<id>`, `#/schedules` …). */

export interface Route {
  page: 'runs' | 'run' | 'schedules' | 'schedule' | 'accounts' | 'scan-result';
  id: string | null;
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const [section, id] = path.split('/');
  const params = new URLSearchParams(search);
  if (section === 'runs' && id) return { page: 'run', id, params };
  if (section === 'schedules' && id) return { page: 'schedule', id, params };
  if (section === 'schedules') return { page: 'schedules', id: null, params };
  if (section === 'accounts') return { page: 'accounts', id: null, params };
  if (section === 'scan-results' && id) return { page: 'scan-result', id, params };
  return { page: 'runs', id: null, params };
}

/** Where a platform administrator's tenant choice is kept for the tab (empty: every tenant). */
export const TENANT_KEY = 'threat-engine.tenant';
