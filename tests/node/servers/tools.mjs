// SPDX-License-Identifier: MIT
// The tool set every luaload SDK test server offers, built on the MCP TypeScript SDK v2 (McpServer). One factory
// serves both eras: a tool that needs client input returns an input-required result, which the SDK sends as a
// 2026-07-28 InputRequiredResult (MRTR) to modern clients and as real server requests on the response stream
// (elicitation/create, roots/list) to 2025-era sessions.
//
//   echo    { text }                 -> text content `text`
//   add     { a, b }                 -> text content `a + b`, structuredContent { sum }
//   slow    { steps, delay_ms }      -> one notifications/progress per step (when the request has a progressToken),
//                                       then text content "done <steps>"
//   confirm { message }              -> asks the client (elicitation/create, form { confirm: boolean }); text content
//                                       "confirmed" when it accepted with confirm = true, "declined" otherwise
//   roots   {}                       -> asks the client for roots/list; text content: the root URIs, one a line
import { McpServer, acceptedContent, inputRequired, inputResponse } from '@modelcontextprotocol/server';
import * as z from 'zod';

export const SERVER_NAME = 'luaload-sdk-test-server';

const CONFIRM_SCHEMA = {
  type: 'object',
  properties: { confirm: { type: 'boolean', description: 'Go ahead?' } },
  required: ['confirm'],
};

function text(value, extra = {}) {
  return { content: [{ type: 'text', text: String(value) }], ...extra };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function slow({ steps, delay_ms: delayMs }, ctx) {
  const token = ctx.mcpReq._meta?.progressToken;
  for (let step = 1; step <= steps; step++) {
    await sleep(delayMs);
    if (ctx.mcpReq.signal.aborted) break;
    if (token !== undefined) {
      await ctx.mcpReq.notify({
        method: 'notifications/progress',
        params: { progressToken: token, progress: step, total: steps, message: `step ${step}/${steps}` },
      });
    }
  }
  return text(`done ${steps}`);
}

function confirm({ message }, ctx) {
  const answer = inputResponse(ctx.mcpReq.inputResponses, 'confirm');
  if (answer.kind === 'missing') {
    return inputRequired({
      inputRequests: { confirm: inputRequired.elicit({ message, requestedSchema: CONFIRM_SCHEMA }) },
    });
  }
  const content = acceptedContent(ctx.mcpReq.inputResponses, 'confirm');
  return text(content?.confirm === true ? 'confirmed' : 'declined');
}

function roots(_args, ctx) {
  const answer = inputResponse(ctx.mcpReq.inputResponses, 'roots');
  if (answer.kind !== 'roots') {
    return inputRequired({ inputRequests: { roots: inputRequired.listRoots() } });
  }
  return text(answer.roots.map((root) => root.uri).join('\n'));
}

// A fresh server with the tool set. `era` ('modern' | 'legacy') only names the server's version string, so a test
// can see which path served it.
export function buildServer(era = 'legacy') {
  const server = new McpServer({ name: SERVER_NAME, version: `1.0.0-${era}` }, { capabilities: { tools: {} } });
  server.registerTool(
    'echo',
    { description: 'Echoes its text', inputSchema: z.object({ text: z.string() }) },
    async ({ text: value }) => text(value),
  );
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      outputSchema: z.object({ sum: z.number() }),
    },
    async ({ a, b }) => text(a + b, { structuredContent: { sum: a + b } }),
  );
  server.registerTool(
    'slow',
    {
      description: 'Takes steps * delay_ms, reporting progress after every step',
      inputSchema: z.object({
        steps: z.number().int().min(1).max(100).default(5),
        delay_ms: z.number().int().min(0).max(5000).default(100),
      }),
    },
    slow,
  );
  server.registerTool(
    'confirm',
    { description: 'Asks the user to confirm (elicitation)', inputSchema: z.object({ message: z.string().default('Go ahead?') }) },
    confirm,
  );
  server.registerTool('roots', { description: "Lists the client's roots", inputSchema: z.object({}) }, roots);
  return server;
}
