import { render } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import './console.css';
import { api } from './api';
import { AppContext, type AppState, type Me, type Tenant } from './app-context';
import { listAll } from './directory';
import { lazyPage } from './lazy-page';
import { AccountsPage } from './pages/accounts-page';
import { RunsPage } from './pages/runs-page';
import { ScanResultPage } from './pages/scan-result-page';
import { parseRoute, type Route, TENANT_KEY } from './route';
import {
  clearToken,
  currentToken,
  finishOidcLogin,
  type OidcConfig,
  onTokenChange,
  setToken,
  startOidcLogin,
  takeTokenFromFragment,
} from './session';
import { useLoad } from './use-poll';

// Opened later than Runs, and the only users of dagre and cronstrue: loaded when first shown.
const RunPage = lazyPage(() => import('./pages/run-page').then((module) => module.RunPage));
const SchedulesPage = lazyPage(() => import('./pages/schedules-page').then((module) => module.SchedulesPage));
const SchedulePage = lazyPage(() => import('./pages/schedule-page').then((module) => module.SchedulePage));

const TITLES: Record<Route['page'], string> = {
  runs: 'Runs',
  run: 'Run',
  schedules: 'Schedules',
  schedule: 'Schedule',
  accounts: 'Accounts',
  'scan-result': 'Scan result',
};

function SignIn(props: { oidc: OidcConfig | null; error: string | null }) {
  const [token, setDraft] = useState('');
  return (
    <main id="main" class="sign-in">
      <h1>Threat engine console</h1>
      {props.error && (
        <p role="alert" class="error">
          {props.error}
        </p>
      )}
      {props.oidc && (
        <p>
          <button type="button" onClick={() => void startOidcLogin(props.oidc as OidcConfig)}>
            Sign in with your organisation
          </button>
        </p>
      )}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim()) setToken(token);
        }}
      >
        <label for="token">Access token</label>
        <textarea
          id="token"
          rows={4}
          value={token}
          autoComplete="off"
          spellcheck={false}
          onInput={(event) => setDraft((event.target as HTMLTextAreaElement).value)}
        />
        <button type="submit">Sign in with the token</button>
      </form>
      <p class="muted">
        Locally, <code>npm start</code> prints a URL that signs you in. The token stays in this tab only.
      </p>
    </main>
  );
}

function Console(props: { me: Me }) {
  // Loaded beside the first page, not before it: only the tenant picker and all-tenant lists need it.
  const tenants = useLoad(
    'tenants',
    () =>
      props.me.may.administer_platform
        ? listAll<Tenant>('/api/v1/tenants', 'tenants', {})
        : Promise.resolve<Tenant[]>([]),
    { afterPaint: true },
  );
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  const [tenantId, setTenantId] = useState<string | null>(
    // Tenant-scoped callers need no tenant_id: the API scopes them to their own tenant.
    () => (props.me.may.administer_platform ? sessionStorage.getItem(TENANT_KEY) || null : null),
  );
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    document.title = `${TITLES[route.page]} · Threat engine console`;
  }, [route.page]);
  const state: AppState = {
    me: props.me,
    tenantId,
    tenants: tenants.data ?? [],
    navigate: (hash) => {
      location.hash = hash;
    },
  };
  const section = route.page === 'run' ? 'runs' : route.page === 'schedule' ? 'schedules' : route.page;
  const link = (page: string, label: string) => (
    <a href={`#/${page}`} aria-current={section === page ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <AppContext.Provider value={state}>
      <header class="top">
        <span class="brand">Threat engine</span>
        <nav aria-label="Console">
          {link('runs', 'Runs')}
          {link('schedules', 'Schedules')}
          {link('accounts', 'Accounts')}
        </nav>
        {props.me.may.administer_platform && (
          <label class="tenant-picker">
            Tenant
            <select
              value={tenantId ?? ''}
              onChange={(event) => {
                const value = (event.target as HTMLSelectElement).value;
                sessionStorage.setItem(TENANT_KEY, value);
                setTenantId(value || null);
              }}
            >
              <option value="">All tenants</option>
              {(tenants.data ?? []).map((tenant) => (
                <option key={tenant.tenant_id} value={tenant.tenant_id}>
                  {tenant.tenant_name}
                </option>
              ))}
            </select>
          </label>
        )}
        <span class="who">
          {props.me.subject} ({props.me.role.replace('_', ' ')})
        </span>
        <button type="button" onClick={() => clearToken()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1} key={`${tenantId ?? 'all'}`}>
        {route.page === 'runs' && <RunsPage accountId={route.params.get('account')} />}
        {route.page === 'run' && route.id && <RunPage key={route.id} executionId={route.id} />}
        {route.page === 'schedules' && <SchedulesPage />}
        {route.page === 'schedule' && route.id && <SchedulePage key={route.id} scheduleId={route.id} />}
        {route.page === 'accounts' && <AccountsPage highlight={route.params.get('account')} />}
        {route.page === 'scan-result' && route.id && <ScanResultPage scanId={route.id} />}
      </main>
    </AppContext.Provider>
  );
}

function Root() {
  const [token, setTokenState] = useState(currentToken());
  const [oidc, setOidc] = useState<OidcConfig | null>(null);
  const [session, setSession] = useState<{ me: Me } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => onTokenChange(() => setTokenState(currentToken())), []);
  // How operators sign in here: only the sign-in page and the way back from the hosted login need it.
  const needsConfig = !token || new URLSearchParams(location.search).has('code');
  const configAsked = useRef(false);
  useEffect(() => {
    if (!needsConfig || configAsked.current) return;
    configAsked.current = true;
    api<{ oidc: OidcConfig | null }>('/api/v1/console/config')
      .then(async (config) => {
        setOidc(config.oidc);
        if (config.oidc) await finishOidcLogin(config.oidc);
      })
      .catch((reason: Error) => setError(reason.message));
  }, [needsConfig]);
  // A layout effect: the identity is asked for (or its early answer taken) before the first paint.
  useLayoutEffect(() => {
    setSession(null);
    if (!token) return;
    (async () => {
      const me = await api<Me>('/api/v1/me');
      setSession({ me });
      setError(null);
    })().catch((reason: Error) => {
      setError(`Sign-in failed: ${reason.message}`);
      clearToken();
    });
  }, [token]);

  if (!token) return <SignIn oidc={oidc} error={error} />;
  if (!session) return <p aria-busy="true">Signing in…</p>;
  return <Console me={session.me} />;
}

takeTokenFromFragment();
render(<Root />, document.getElementById('app') as HTMLElement);
