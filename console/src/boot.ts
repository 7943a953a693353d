import { publishEarlyRequests } from './early-requests';
import { parseRoute, TENANT_KEY } from './route';
import { runsPath } from './runs-path';
import { currentToken, tokenInFragment } from './session';

/**
 * Inlined into index.html (before the stylesheet and the bundle): with a token at hand, starts the
 * requests the first screen waits for, the caller's identity and, on Runs, the first page of runs,
 * so they travel while the bundle downloads and boots. It changes nothing else: main.tsx takes
 * the token into the session and renders.
 */
const token = tokenInFragment() ?? currentToken();
if (token) {
  const route = parseRoute(location.hash);
  const paths = ['/api/v1/me'];
  if (route.page === 'runs' && !route.params.get('account'))
    paths.push(runsPath(sessionStorage.getItem(TENANT_KEY) || null));
  const headers = { Accept: 'application/json', Authorization: `Bearer ${token}` };
  publishEarlyRequests(
    Object.fromEntries(
      paths.map((path) => {
        const pending = fetch(path, { headers });
        // Whoever takes it over sees a failure; until then it is not an unhandled rejection.
        pending.catch(() => undefined);
        return [path, pending];
      }),
    ),
  );
}
