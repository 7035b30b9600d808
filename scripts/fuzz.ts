// npm run fuzz -- --frames N [--seed S] [--connections C] [--batch B] [--store memory|sqlite]
// Structure-aware and byte-level fuzzing of a kmipd child (--store memory) over mutual TLS;
// see src/fuzz/campaign.ts. Prints progress, then frames, findings and the server's peak RSS.
// Exits 1 on any crash or hang; the frames that caused one are written to fuzz-findings/.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type FuzzStore, fuzzOnce, isolate } from '../test/fuzz/harness.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    connections: { type: 'string', default: '2' },
    batch: { type: 'string', default: '500' },
    out: { type: 'string', default: 'fuzz-findings' },
    store: { type: 'string', default: 'memory' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(`npm run fuzz -- [options]

Sends generated and mutated KMIP requests over mutual TLS to a kmipd it starts (--store
memory) and checks after every batch that the server still answers on a fresh connection.
Prints progress, then frames, findings and the server's peak RSS. Exits 1 on a crash or hang.

  --frames N        frames to send (default 10000; CI runs 100000)
  --seed S          random seed (default: from the clock, printed)
  --connections C   parallel TLS connections (default 2)
  --batch B         frames pipelined per connection before a liveness probe (default 500)
  --out DIR         where the frames of a crash or hang are written (default fuzz-findings)
  --store S         the server's store: memory (default) or sqlite. Valid Creates and Registers
                    among the frames are kept, so a long run's memory store grows with them;
                    sqlite keeps them on disk and the server's memory then shows any leak
  -h, --help        this text
`);
  process.exit(0);
}
const frames = Number(values.frames);
const seed = values.seed === undefined ? Date.now() >>> 0 : Number(values.seed);
const connections = Number(values.connections);
if (values.store !== 'memory' && values.store !== 'sqlite') {
  process.stderr.write(`--store: memory or sqlite, not ${values.store}\n`);
  process.exit(2);
}
const store: FuzzStore = values.store;
process.stdout.write(
  `fuzz: ${frames} frames, seed ${seed}, ${connections} connections, ${store} store\n`,
);

const run = await fuzzOnce({
  frames,
  seed,
  connections,
  batch: Number(values.batch),
  store,
  onProgress: (s, peakKiB) => {
    const rate = Math.round(s.frames / (s.elapsedMs / 1000));
    process.stdout.write(
      `  ${s.frames} frames, ${s.connections} connections, ${s.probes} probes, ${rate}/s, server peak RSS ${Math.round(peakKiB / 1024)} MiB\n`,
    );
  },
});
const { stats } = run;
const crashesOrHangs = stats.findings.filter((f) => f.kind === 'crash' || f.kind === 'hang');
process.stdout.write(
  `done: ${stats.frames} frames in ${(stats.elapsedMs / 1000).toFixed(1)} s, ${stats.connections} connections (${stats.serverCloses} closed by the server after broken framing), ${stats.probes} probes\n` +
    `  crashes ${stats.findings.filter((f) => f.kind === 'crash').length}, hangs ${stats.findings.filter((f) => f.kind === 'hang').length}, other findings ${stats.findings.length - crashesOrHangs.length}\n` +
    `  server peak RSS (VmHWM) ${Math.round(run.peakKiB / 1024)} MiB; error-level log lines ${run.errors.length}\n`,
);
for (const e of run.errors.slice(0, 10)) process.stdout.write(`  error log: ${e}\n`);

let n = 0;
for (const f of stats.findings) {
  process.stdout.write(`finding: ${f.kind}: ${f.detail} (${f.frames.length} frames in flight)\n`);
  const culprits =
    f.kind === 'crash' || f.kind === 'hang' ? await isolate(f.frames, store) : f.frames;
  await mkdir(values.out, { recursive: true });
  for (const c of culprits) {
    n++;
    const file = join(values.out, `${f.kind}-${seed}-${n}.hex`);
    await writeFile(file, `# ${f.kind}: ${f.detail}\n# ${c.kind}\n${c.frame.toString('hex')}\n`);
    process.stdout.write(`  wrote ${file} (${c.kind})\n`);
  }
}
process.exit(stats.findings.length > 0 ? 1 : 0);
