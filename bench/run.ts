// `npm run bench`: runs the benchmarks and writes their figures to bench/results/.
// Speed is measured here, never in the test suite. `npm run bench -- codec`, `-- store`,
// `-- scale` or `-- server` runs one part only. Scale fills stores of 10k and 100k objects by
// default; `npm run bench -- scale --objects 1000000` adds 1M (several minutes to fill).

import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchCodec } from './codec.js';
import { benchScale, scaleMarkdown } from './scale.js';
import { benchServers } from './server.js';
import { benchStore, storeMarkdown } from './store.js';

const PARTS = ['codec', 'store', 'scale', 'server'] as const;
const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { objects: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (opts.help) {
  console.log(`npm run bench [-- codec|store|scale|server] [--objects N]

Runs the benchmarks and writes their figures to bench/results/ (JSON and Markdown).
  codec    TTLV decode/encode messages/s on one core
  store    Creates/s and Gets/s per store and key wrapper, next to raw floors
  scale    Locate at 10k/100k objects (--objects 1000000 adds 1M), idle-connection memory,
           TLS handshakes/s
  server   kmipd vs PyKMIP's server vs a TLS echo floor at 1, 4 and 16 connections
With no part, all four run.`);
  process.exit(0);
}
const outDir = join(import.meta.dirname, 'results');
await mkdir(outDir, { recursive: true });
const only = positionals[0];
if (only !== undefined && !(PARTS as readonly string[]).includes(only)) {
  throw new Error(`unknown part '${only}': ${PARTS.join(', ')}`);
}
const runs = (part: (typeof PARTS)[number]) => only === undefined || only === part;
const machine = () => ({
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
});

if (runs('codec')) {
  console.log('TTLV codec, one core ...');
  const codec = benchCodec();
  console.table(codec);

  const figures = { ...machine(), codec };
  const file = join(outDir, 'codec.json');
  await writeFile(file, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`figures written to ${file}`);
}

if (runs('store')) {
  console.log('Stores and key wrappers, with their floors ...');
  const store = await benchStore();
  await writeFile(
    join(outDir, 'store.json'),
    `${JSON.stringify({ ...machine(), ...store }, null, 2)}\n`,
  );
  await writeFile(join(outDir, 'STORE.md'), storeMarkdown(store));
  console.log(storeMarkdown(store));
}

if (runs('scale')) {
  const extra = opts.objects === undefined ? [] : [Number(opts.objects)];
  const sizes = [...new Set([10_000, 100_000, ...extra])].sort((a, b) => a - b);
  console.log(`Locate at ${sizes.join(', ')} objects; memory per idle connection ...`);
  const scale = await benchScale({ sizes });
  const json = JSON.stringify({ ...machine(), ...scale }, (_, v) =>
    typeof v === 'bigint' ? Number(v) : v,
  );
  await writeFile(join(outDir, 'scale.json'), `${json}\n`);
  await writeFile(join(outDir, 'SCALE.md'), scaleMarkdown(scale));
  console.log(scaleMarkdown(scale));
}

if (runs('server')) {
  console.log('KMIP servers under load (a few minutes) ...');
  await benchServers(outDir);
  console.log(
    `figures written to ${join(outDir, 'server.json')}, REPORT.md, server-throughput.svg`,
  );
}
