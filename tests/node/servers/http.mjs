// SPDX-License-Identifier: MIT
// An MCP server over streamable HTTP built with the TypeScript SDK v2, serving the tool set of tools.mjs on
// http://127.0.0.1:<port>/mcp (port 0 = any free port). Once listening it prints that URL, alone on one line, on
// stdout; diagnostics go to stderr. SIGTERM or SIGINT stops it (exit 0).
//
//   node http.mjs [--mode modern|legacy|dual] [--port N]
//
//   modern  createMcpHandler(factory, { legacy: 'reject' }): 2026-07-28 only, as the SDK v2 serves new deployments.
//           A 2025-era request (initialize, no _meta envelope) is answered with the unsupported-protocol-version
//           error.
//   legacy  a sessionful streamable HTTP server (NodeStreamableHTTPServerTransport with a session id generator, one
//           transport and server per session): the 2025 revisions only, as existing deployments serve them. A
//           2026-07-28 request (no initialize, no session) is answered 400 "Session ID required", the answer a
//           dual-era client falls back on.
//   dual    createMcpHandler(factory) with its default legacy posture ('stateless'): both eras, 2025 without sessions.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

import { createMcpHandler, isInitializeRequest } from '@modelcontextprotocol/server';
import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';

import { buildServer } from './tools.mjs';

const MCP_PATH = '/mcp';
const MAX_BODY = 4 << 20;

function jsonRpcError(res, status, code, message) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

async function readJsonBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks).toString('utf8');
  return body === '' ? undefined : JSON.parse(body);
}

// Sessionful 2025-era serving: initialize opens a session (its own transport and server), every later request names
// it in Mcp-Session-Id, DELETE (handled by the transport) closes it.
function legacyHandler() {
  const sessions = new Map();
  return async (req, res) => {
    let body;
    if (req.method === 'POST') {
      try {
        body = await readJsonBody(req);
      } catch (error) {
        return jsonRpcError(res, 400, -32700, `Parse error: ${error.message}`);
      }
    }
    const sid = req.headers['mcp-session-id'];
    if (sid !== undefined) {
      const transport = sessions.get(sid);
      if (transport === undefined) return jsonRpcError(res, 404, -32001, 'Session not found');
      return transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return jsonRpcError(res, 400, -32000, 'Bad Request: Session ID required');
    }
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => sessions.set(id, transport),
      onsessionclosed: (id) => sessions.delete(id),
    });
    transport.onclose = () => transport.sessionId !== undefined && sessions.delete(transport.sessionId);
    await buildServer('legacy').connect(transport);
    return transport.handleRequest(req, res, body);
  };
}

function modernHandler(legacy) {
  const onerror = (error) => console.error(`[server] ${error.message}`);
  return toNodeHandler(createMcpHandler((ctx) => buildServer(ctx.era), { legacy, onerror }), { onerror });
}

function handlerFor(mode) {
  switch (mode) {
    case 'modern':
      return modernHandler('reject');
    case 'dual':
      return modernHandler('stateless');
    case 'legacy':
      return legacyHandler();
    default:
      throw new Error(`unknown --mode ${mode} (modern, legacy or dual)`);
  }
}

function main() {
  const { values } = parseArgs({ options: { mode: { type: 'string', default: 'modern' }, port: { type: 'string', default: '0' } } });
  const handle = handlerFor(values.mode);
  const server = http.createServer((req, res) => {
    if (new URL(req.url, 'http://127.0.0.1').pathname !== MCP_PATH) {
      res.writeHead(404).end();
      return;
    }
    handle(req, res).catch((error) => {
      console.error(`[server] ${error.stack ?? error}`);
      if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal server error');
      else res.end();
    });
  });
  server.listen(Number(values.port), '127.0.0.1', () => {
    process.stdout.write(`http://127.0.0.1:${server.address().port}${MCP_PATH}\n`);
    console.error(`[server] ${values.mode} mode`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
