// Runs the shell blocks of docs/*.md marked `sh runnable`, one bash script per guide, in a new
// temporary directory with `kmipd` and `kmip` on the PATH and port 5696 replaced by a free
// port. The blocks of a guide share one shell (variables and background jobs carry over);
// every process they start is stopped afterwards through the shell's process group.

import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = join(ROOT, 'docs');

/** The bodies of the ```sh runnable blocks of a Markdown text, in order. */
function runnableBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const re = /^```sh runnable\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m !== null; m = re.exec(markdown)) blocks.push(m[1]!);
  return blocks;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

async function shims(dir: string): Promise<string> {
  const bin = join(dir, '.bin');
  await mkdir(bin);
  for (const name of ['kmipd', 'kmip']) {
    const path = join(bin, name);
    await writeFile(
      path,
      `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', `${name}.js`)}" "$@"\n`,
    );
    await chmod(path, 0o755);
  }
  return bin;
}

interface Ran {
  code: number | null;
  output: string;
}

async function runGuide(blocks: string[]): Promise<Ran> {
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-docs-'));
  const port = await freePort();
  const bin = await shims(dir);
  const script = [
    'set -euo pipefail',
    ...blocks.map((b, i) => `echo "--- block ${i + 1}" >&2\n${b.replaceAll('5696', String(port))}`),
  ].join('\n');
  const child = spawn('bash', ['-c', script], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: dir },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  // Background servers the guide left running are in the shell's process group.
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {}
  await new Promise((r) => setTimeout(r, 200));
  await rm(dir, { recursive: true, force: true });
  return { code, output };
}

const guides = (await readdir(DOCS)).filter((f) => f.endsWith('.md')).sort();

describe('docs', () => {
  it('has the guides the README links to', async () => {
    const index = await readFile(join(DOCS, 'README.md'), 'utf8');
    for (const [, target] of index.matchAll(/\]\(([^)]+\.md)\)/g)) {
      expect(guides, target).toContain(target);
    }
  });

  it('finds runnable blocks', () => {
    expect(runnableBlocks('x\n```sh runnable\necho 1\n```\n```sh\nnot\n```\n')).toEqual([
      'echo 1\n',
    ]);
  });

  for (const guide of guides) {
    it(`runs the runnable blocks of ${guide}`, async () => {
      const blocks = runnableBlocks(await readFile(join(DOCS, guide), 'utf8'));
      if (blocks.length === 0) return;
      const ran = await runGuide(blocks);
      expect(ran.code, ran.output).toBe(0);
    }, 120_000);
  }
});
