// SPDX-License-Identifier: MIT
// An MCP server over stdio (newline-delimited JSON-RPC on stdin/stdout) built with the TypeScript SDK v2, serving
// the tool set of tools.mjs. Diagnostics go to stderr. It ends when stdin closes, or on SIGTERM/SIGINT (exit 0).
//
//   node stdio.mjs [--mode dual|modern|legacy]
//
//   dual    serveStdio(factory): the connection's opening message picks the era (initialize -> a 2025 session,
//           a request with the _meta envelope or a server/discover probe -> 2026-07-28), as the SDK v2 serves stdio.
//   modern  serveStdio(factory, { legacy: 'reject' }): initialize is answered with the unsupported-protocol-version
//           error.
//   legacy  a server connected straight to a StdioServerTransport: the 2025 revisions only, as servers written for
//           them do.
import { parseArgs } from 'node:util';

import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';

import { buildServer } from './tools.mjs';

function main() {
  const { values } = parseArgs({ options: { mode: { type: 'string', default: 'dual' } } });
  const onerror = (error) => console.error(`[server] ${error.message}`);
  switch (values.mode) {
    case 'dual':
      serveStdio((ctx) => buildServer(ctx?.era ?? 'legacy'), { onerror });
      break;
    case 'modern':
      serveStdio((ctx) => buildServer(ctx?.era ?? 'modern'), { legacy: 'reject', onerror });
      break;
    case 'legacy':
      void buildServer('legacy').connect(new StdioServerTransport());
      break;
    default:
      console.error(`unknown --mode ${values.mode} (dual, modern or legacy)`);
      process.exit(2);
  }
  console.error(`[server] stdio, ${values.mode} mode`);
  process.stdin.on('end', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

main();
