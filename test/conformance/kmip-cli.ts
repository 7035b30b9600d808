// Runs the `kmip` command as a child process for the conformance tests.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const KMIP_BIN = join(ROOT, 'bin', 'kmip.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runKmipCli(args: string[]): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [KMIP_BIN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The case identifiers of fixtures/conformance-skips/expected-pass.txt. */
export async function expectedPasses(): Promise<string[]> {
  const text = await readFile(
    join(ROOT, 'fixtures', 'conformance-skips', 'expected-pass.txt'),
    'utf8',
  );
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}
