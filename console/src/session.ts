/**
 * The operator's token, kept for the tab's session only (sessionStorage). It arrives in the URL
 * fragment (`/console#token=…`, printed by `npm start`), is pasted, or comes from the OIDC
 * issuer's hosted login (authorization code + PKCE); the fragment is removed from the address bar.
 */

const TOKEN_KEY = 'threat-engine.token';
const PKCE_KEY = 'threat-engine.pkce';

const listeners = new Set<() => void>();

export function onTokenChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function currentToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
  for (const listener of listeners) listener();
}

export function clearToken(): void {
  if (currentToken() === null) return;
  sessionStorage.removeItem(TOKEN_KEY);
  for (const listener of listeners) listener();
}

/** The token a `#token=…` fragment carries (trimmed), or null. */
export function tokenInFragment(): string | null {
  const match = /^#token=([^&]+)/.exec(location.hash);
  return match?.[1] ? decodeURIComponent(match[1]).trim() : null;
}

/** Takes a `#token=…` fragment into the session and leaves `#/runs` in the address bar. */
export function takeTokenFromFragment(): void {
  const token = tokenInFragment();
  if (!token) return;
  setToken(token);
  history.replaceState(null, '', `${location.pathname}#/runs`);
}

export interface OidcConfig {
  issuer: string;
  client_id: string;
  scopes: string;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const randomString = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`the issuer's discovery document answered ${response.status}`);
  return (await response.json()) as Discovery;
}

const redirectUri = () => `${location.origin}${location.pathname}`;

/** Sends the browser to the issuer's hosted login (authorization code + PKCE S256). */
export async function startOidcLogin(config: OidcConfig): Promise<void> {
  const discovery = await discover(config.issuer);
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.client_id,
    redirect_uri: redirectUri(),
    scope: config.scopes,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/** On the way back from the hosted login (`?code=&state=`): trades the code for a token. */
export async function finishOidcLogin(config: OidcConfig): Promise<boolean> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (!code) return false;
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? 'null') as {
    verifier: string;
    state: string;
  } | null;
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, '', `${location.pathname}#/runs`);
  if (!saved || saved.state !== params.get('state'))
    throw new Error('the sign-in answer does not match its request');
  const discovery = await discover(config.issuer);
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      client_id: config.client_id,
      code_verifier: saved.verifier,
    }).toString(),
  });
  if (!response.ok) throw new Error(`the issuer refused the sign-in (${response.status})`);
  const tokens = (await response.json()) as { id_token?: string; access_token?: string };
  const token = tokens.id_token ?? tokens.access_token;
  if (!token) throw new Error('the issuer answered no token');
  setToken(token);
  return true;
}
