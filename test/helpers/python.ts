// Runs the system Python (/usr/bin/python3, where Debian's python3-pykmip lives) on driver
// scripts that print one JSON document on stdout. A missing interpreter or PyKMIP fails the
// test with the package to install; it never skips.

import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PYTHON = '/usr/bin/python3';
export const E2E_PY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../e2e/py');
const MISSING =
  'PyKMIP is not installed for /usr/bin/python3: install the Debian package python3-pykmip ' +
  '(apt-get install python3-pykmip)';

let checked: Promise<void> | undefined;

/** Fails with the Debian package name when /usr/bin/python3 cannot import PyKMIP. */
export function requirePyKmip(): Promise<void> {
  checked ??= run(PYTHON, ['-c', 'import kmip.pie.client, kmip.services.kmip_client']).then(
    () => undefined,
    (err: NodeJS.ErrnoException & { stderr?: string }) => {
      throw new Error(`${MISSING}; ${err.code === 'ENOENT' ? 'no /usr/bin/python3' : err.stderr}`);
    },
  );
  return checked;
}

/**
 * Runs test/e2e/py/SCRIPT with one argument, the JSON of `input`, and parses its stdout.
 * A non-zero exit is an error carrying the script's stderr.
 */
export async function runPyScript<T>(script: string, input: unknown): Promise<T> {
  await requirePyKmip();
  const path = join(E2E_PY_DIR, script);
  let stdout: string;
  try {
    ({ stdout } = await run(PYTHON, [path, JSON.stringify(input)], {
      maxBuffer: 64 * 1024 * 1024,
    }));
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`${script} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
  try {
    return JSON.parse(stdout) as T;
  } catch {
    throw new Error(`${script} printed no JSON document:\n${stdout}`);
  }
}
