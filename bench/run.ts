// `npm run bench`: runs the benchmarks and writes their figures to bench/results/.
// Speed is measured here, never in the test suite. `npm run bench -- codec` or `-- server` runs
// one part only.

import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchCodec } from './codec.js';
import { benchServers } from './server.js';

const outDir = join(import.meta.dirname, 'results');
await mkdir(outDir, { recursive: true });
const only = process.argv[2];
if (only !== undefined && only !== 'codec' && only !== 'server') {
  throw new Error(`unknown part '${only}': codec or server`);
}

if (only !== 'server') {
  console.log('TTLV codec, one core ...');
  const codec = benchCodec();
  console.table(codec);

  const figures = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    codec,
  };
  const file = join(outDir, 'codec.json');
  await writeFile(file, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`figures written to ${file}`);
}

if (only !== 'codec') {
  console.log('KMIP servers under load (a few minutes) ...');
  await benchServers(outDir);
  console.log(
    `figures written to ${join(outDir, 'server.json')}, REPORT.md, server-throughput.svg`,
  );
}
