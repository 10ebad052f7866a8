// SPDX-License-Identifier: MIT
// A real OAuth 2.0 / OpenID authorization server (oauth2-mock-server: discovery, JWKS, authorization code with
// PKCE, client credentials, refresh, RS256 JWT access tokens) on 127.0.0.1, port 0, launched strictly for tests,
// and optionally a resource server that validates those JWTs. Once listening it prints, one per line on stdout:
//
//   issuer=http://127.0.0.1:<port>             (discovery at /.well-known/openid-configuration, token at /token)
//   resource=http://127.0.0.1:<port>/api       (with --resource)
//
// Diagnostics go to stderr; SIGTERM or SIGINT stops both (exit 0).
//
//   node oauth.mjs [--ttl SECONDS] [--client ID:SECRET]... [--resource]
//
//   --ttl       access token lifetime: the JWT's exp is iat + ttl (whole seconds, as the server writes them) and
//               the token response's expires_in is ttl (default 3600)
//   --client    strict client authentication: the token endpoint answers 401 invalid_client unless the request
//               authenticates as one of these clients (HTTP Basic or client_secret_post). Without it any client
//               is accepted, the mock's default.
//   --resource  GET/POST /api answers 200 {"ok":true,"sub":...,"client_id":...} for a bearer token this issuer
//               signed that has not expired (no clock tolerance), else 401 with
//               WWW-Authenticate: Bearer error="invalid_token"
import http from 'node:http';
import { parseArgs } from 'node:util';

import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Events, OAuth2Server } from 'oauth2-mock-server';

function parseClients(specs) {
  const clients = new Map();
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    if (colon <= 0) throw new Error(`--client wants ID:SECRET, got ${spec}`);
    clients.set(spec.slice(0, colon), spec.slice(colon + 1));
  }
  return clients;
}

// The client a token request authenticates as: HTTP Basic (RFC 6749 2.3.1, form-encoded parts) or the body.
function requestClient(req) {
  const header = req.headers.authorization ?? '';
  if (header.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const part = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: part(decoded.slice(0, colon)), secret: part(decoded.slice(colon + 1)) };
  }
  return { id: req.body?.client_id, secret: req.body?.client_secret };
}

function configureIssuer(server, { ttl, clients }) {
  server.service.on(Events.BeforeTokenSigning, (token) => {
    token.payload.exp = token.payload.iat + ttl;
  });
  server.service.on(Events.BeforeResponse, (response, req) => {
    if (clients.size > 0) {
      const client = requestClient(req);
      if (client.id === undefined || clients.get(client.id) !== client.secret) {
        response.statusCode = 401;
        response.body = { error: 'invalid_client', error_description: 'unknown client or wrong secret' };
        return;
      }
    }
    if (response.statusCode === 200 && typeof response.body === 'object') response.body.expires_in = ttl;
  });
}

function startResource(issuer) {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const server = http.createServer(async (req, res) => {
    if (new URL(req.url, 'http://127.0.0.1').pathname !== '/api') {
      res.writeHead(404).end();
      return;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    try {
      if (!match) throw new Error('no bearer token');
      const { payload } = await jwtVerify(match[1], jwks, { issuer, clockTolerance: 0 });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: true, sub: payload.sub ?? null, client_id: payload.client_id ?? null }));
    } catch (error) {
      res.writeHead(401, {
        'Content-Type': 'application/json',
        'WWW-Authenticate': `Bearer error="invalid_token", error_description="${error.code ?? 'invalid'}"`,
      });
      res.end(JSON.stringify({ error: 'invalid_token' }));
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function main() {
  const { values } = parseArgs({
    options: {
      ttl: { type: 'string', default: '3600' },
      client: { type: 'string', multiple: true, default: [] },
      resource: { type: 'boolean', default: false },
    },
  });
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) throw new Error(`--ttl wants whole seconds, got ${values.ttl}`);
  const oauth = new OAuth2Server();
  await oauth.issuer.keys.generate('RS256');
  configureIssuer(oauth, { ttl, clients: parseClients(values.client) });
  await oauth.start(0, '127.0.0.1');
  // The mock names itself "localhost", which may resolve to ::1 where nothing listens: name the address it uses.
  oauth.issuer.url = `http://127.0.0.1:${oauth.address().port}`;
  const issuer = oauth.issuer.url;
  const resource = values.resource ? await startResource(issuer) : undefined;
  process.stdout.write(`issuer=${issuer}\n`);
  if (resource) process.stdout.write(`resource=http://127.0.0.1:${resource.address().port}/api\n`);
  const stop = async () => {
    resource?.closeAllConnections();
    resource?.close();
    await oauth.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error) => {
  console.error(`[oauth] ${error.stack ?? error}`);
  process.exit(1);
});
