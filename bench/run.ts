// `npm run bench`: runs the benchmarks and writes their figures to bench/results/.
// Speed is measured here, never in the test suite.

import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchCodec } from './codec.js';

const outDir = join(import.meta.dirname, 'results');
await mkdir(outDir, { recursive: true });

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
