// SPDX-License-Identifier: MIT
// A real authorization server and a strict resource server for tests/integration/oauth_real_server_test.cpp.
//
//   node oauth_mock_server.mjs --node-dir <tests/node> [--ttl 5]
//
// Authorization server: oauth2-mock-server (RS256 JWT access tokens, iat/exp in whole seconds) behind a strict
// launcher: clients must authenticate with HTTP Basic luaload:secret (else 401 invalid_client); tokens live
// --ttl seconds (the JWT exp and expires_in); refresh tokens are one-time (rotation: a reused or unknown one is
// 400 invalid_grant); POST /admin/outage?seconds=N on the resource server makes the token endpoint answer 503
// for N seconds.
// Resource server: GET /api/items verifies the bearer JWT against the issuer's key with no clock skew (an expired
// token is 401 invalid_token); GET /stats reports what both servers saw.
// Prints `READY as=<issuer URL> rs=<resource server URL>` once both listen on 127.0.0.1 (ports chosen by the OS).
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const nodeDir = arg('--node-dir');
const ttl = Number(arg('--ttl', '5'));
const require = createRequire(path.resolve(nodeDir, 'package.json'));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);
const { OAuth2Server, Events } = await load('oauth2-mock-server');
const jose = await load('jose');

const stats = { token_requests: 0, logins: 0, refreshes: 0, rejected_refreshes: 0, outage_refusals: 0,
  api_ok: 0, api_expired: 0, api_invalid: 0 };
const liveRefresh = new Set();
let outageUntil = 0;

const as = new OAuth2Server();
await as.issuer.keys.generate('RS256');

function refuse(response, status, error, description) {
  response.statusCode = status;
  response.body = { error, error_description: description };
}

function clientOk(req) {
  const header = req.headers.authorization || '';
  if (!header.startsWith('Basic ')) return false;
  const [id, secret] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
  return decodeURIComponent(id) === 'luaload' && decodeURIComponent(secret) === 'secret';
}

as.service.on(Events.BeforeTokenSigning, (token) => {
  token.payload.exp = token.payload.iat + ttl;
  token.payload.aud = 'luaload-api';
});

as.service.on(Events.BeforeResponse, (response, req) => {
  stats.token_requests++;
  const body = req.body || {};
  if (Date.now() < outageUntil) {
    stats.outage_refusals++;
    return refuse(response, 503, 'temporarily_unavailable', 'authorization server outage');
  }
  if (!clientOk(req)) return refuse(response, 401, 'invalid_client', 'client authentication failed');
  if (body.grant_type === 'refresh_token') {
    if (!liveRefresh.delete(body.refresh_token)) {
      stats.rejected_refreshes++;
      return refuse(response, 400, 'invalid_grant', 'refresh token unknown or already used');
    }
    stats.refreshes++;
  } else {
    stats.logins++;
  }
  response.body.expires_in = ttl;
  if (!response.body.refresh_token) response.body.refresh_token = crypto.randomUUID();
  liveRefresh.add(response.body.refresh_token);
});

await as.start(0, '127.0.0.1');
const issuer = as.issuer.url;
const publicKeys = jose.createLocalJWKSet({ keys: as.issuer.keys.toJSON() });

async function api(req, res) {
  const header = req.headers.authorization || '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : '';
  try {
    await jose.jwtVerify(token, publicKeys, { issuer, audience: 'luaload-api', clockTolerance: 0 });
    stats.api_ok++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ items: [{ id: 1, name: 'anvil' }] }));
  } catch (e) {
    if (e instanceof jose.errors.JWTExpired) stats.api_expired++;
    else stats.api_invalid++;
    res.writeHead(401, { 'WWW-Authenticate': 'Bearer error="invalid_token"', 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_token', error_description: e.code || 'invalid' }));
  }
}

const rs = createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/api/items' && req.method === 'GET') return void api(req, res);
  if (url.pathname === '/stats') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return void res.end(JSON.stringify(stats));
  }
  if (url.pathname === '/admin/outage' && req.method === 'POST') {
    outageUntil = Date.now() + Number(url.searchParams.get('seconds') || '0') * 1000;
    res.writeHead(204);
    return void res.end();
  }
  res.writeHead(404);
  res.end();
});
rs.listen(0, '127.0.0.1', () => {
  console.log(`READY as=${issuer} rs=http://127.0.0.1:${rs.address().port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    rs.close();
    await as.stop();
    process.exit(0);
  });
}
