// SPDX-License-Identifier: MIT
// Updates one section of an expected-failures baseline from the output of a conformance suite run judged against
// it (run.sh baseline ...): the entries the suite reported stale (now passing) are removed, the unexpected failures
// are added, everything else is kept, so runs that share a file (server requirement sets and single scenarios at
// the same revision) each update only their own scenarios.
//
//   node baseline.mjs FILE.yml client|server SUITE_OUTPUT.log
//
// FILE.yml is written in the suite's --expected-failures format: a comment header, then `client:` and `server:`
// lists of `<scenario>` or `<scenario>:<check-id>` entries (`[]` when empty).
import { readFileSync, writeFileSync } from 'node:fs';

const SECTIONS = ['client', 'server'];

function parseBaseline(text) {
  const header = [];
  const lists = { client: [], server: [] };
  let current = null;
  for (const line of text.split('\n')) {
    const section = /^(client|server):\s*(\[\])?\s*$/.exec(line);
    const entry = /^\s+-\s+(\S+)\s*$/.exec(line);
    if (section) current = section[1];
    else if (entry && current) lists[current].push(entry[1]);
    else if (current === null && line.startsWith('#')) header.push(line);
  }
  return { header, lists };
}

function renderBaseline({ header, lists }) {
  const parts = [...header];
  for (const section of SECTIONS) {
    if (lists[section].length === 0) parts.push(`${section}: []`);
    else parts.push(`${section}:`, ...lists[section].map((e) => `  - ${e}`));
  }
  return parts.join('\n') + '\n';
}

// The entries the suite listed under a heading of its baseline report ("Stale baseline entries ...",
// "Unexpected failures (not in baseline)"), one per line as "  <mark> <entry>", up to the next blank line.
function reported(output, heading) {
  const found = [];
  let inside = false;
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
    if (line.startsWith(heading)) inside = true;
    else if (inside && line.trim() === '') inside = false;
    else if (inside) found.push(line.trim().split(/\s+/)[1]);
  }
  return found;
}

function main() {
  const [file, section, log] = process.argv.slice(2);
  if (!file || !SECTIONS.includes(section) || !log) {
    console.error('usage: node baseline.mjs FILE.yml client|server SUITE_OUTPUT.log');
    process.exit(2);
  }
  const baseline = parseBaseline(readFileSync(file, 'utf8'));
  const output = readFileSync(log, 'utf8');
  const stale = new Set(reported(output, 'Stale baseline entries'));
  const unexpected = reported(output, 'Unexpected failures (not in baseline)');
  const kept = baseline.lists[section].filter((entry) => !stale.has(entry));
  baseline.lists[section] = [...new Set([...kept, ...unexpected])];
  writeFileSync(file, renderBaseline(baseline));
  console.log(`${file} ${section}: -${stale.size} stale, +${unexpected.length} failing, ${baseline.lists[section].length} listed`);
}

main();
