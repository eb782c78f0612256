// openid-client (OpenID-certified relying-party library) against a running Yinxin OpenID Provider.
// It does what a relying party does: discovery, authorization code + PKCE (this script plays the
// browser: sign-in form with its CSRF token, consent), ID token validation (signature against the
// JWK set, iss, aud, nonce, exp), userinfo, introspection, refresh, revocation, RP-initiated
// logout. Prints one JSON object of what it saw; any library refusal ends it with exit code 1.
//
// node judge.mjs <issuer> <client_id> <client_secret> <username> <password> <redirect_uri> <post_logout_uri>
import * as oidc from 'openid-client';

const [issuer, clientId, clientSecret, username, password, redirectUri, postLogoutUri] =
  process.argv.slice(2);
const seen = {};
const cookies = new Map();

async function browse(url, init = {}) {
  const headers = new Headers(init.headers || {});
  if (cookies.size) {
    headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
  }
  headers.set('accept', 'text/html');
  const r = await fetch(url, { ...init, headers, redirect: 'manual' });
  for (const c of r.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
  }
  return r;
}

function absolute(location, base) {
  return new URL(location, base).toString();
}

function field(html, name) {
  const m = html.match(new RegExp(`name="${name}"[^>]*value="([^"]*)"`));
  if (!m) throw new Error(`no ${name} field in the page`);
  return m[1].replaceAll('&#x2f;', '/').replaceAll('&amp;', '&');
}

const config = await oidc.discovery(
  new URL(issuer),
  clientId,
  undefined,
  oidc.ClientSecretBasic(clientSecret),
  { execute: [oidc.allowInsecureRequests] },
);
seen.issuer = config.serverMetadata().issuer;

const verifier = oidc.randomPKCECodeVerifier();
const state = oidc.randomState();
const nonce = oidc.randomNonce();
const authUrl = oidc.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile',
  code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});

// The browser: authorize → sign-in page → sign in → authorize → consent → callback.
let r = await browse(authUrl);
let url = absolute(r.headers.get('location'), authUrl);
r = await browse(url);
const csrf = field(await r.text(), '_csrf');
r = await browse(new URL('/login', issuer), {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ username, password, _csrf: csrf }),
});
url = absolute(r.headers.get('location'), issuer);
r = await browse(url);
if (r.status === 302 && r.headers.get('location').includes('/oauth2/consent')) {
  r = await browse(absolute(r.headers.get('location'), issuer));
}
if (r.status === 200) {
  const consentState = field(await r.text(), 'state');
  r = await browse(new URL('/oauth2/authorize', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, state: consentState, scope: 'profile' }),
  });
}
const callback = new URL(r.headers.get('location'));

const tokens = await oidc.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
seen.idToken = { sub: claims.sub, aud: claims.aud, iss: claims.iss, nonceMatched: claims.nonce === nonce };
seen.scope = tokens.scope;

const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
seen.userinfo = { sub: info.sub };

seen.introspectionActive = (await oidc.tokenIntrospection(config, tokens.access_token)).active;

const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
seen.refreshIdToken = refreshed.id_token !== undefined;
seen.refreshRotated = refreshed.refresh_token !== undefined && refreshed.refresh_token !== tokens.refresh_token;

await oidc.tokenRevocation(config, refreshed.access_token);
seen.revokedActive = (await oidc.tokenIntrospection(config, refreshed.access_token)).active;

const endSession = oidc.buildEndSessionUrl(config, {
  // A refresh of an openid grant brings a new ID token; the latest one is the hint.
  id_token_hint: refreshed.id_token ?? tokens.id_token,
  post_logout_redirect_uri: postLogoutUri,
  state: 'bye',
});
r = await browse(endSession);
seen.logoutStatus = r.status;
seen.logoutLocation = r.headers.get('location');
// Signed out: authorizing again goes to the sign-in page.
r = await browse(authUrl);
seen.afterLogout = r.headers.get('location');

console.log(JSON.stringify(seen));
