// A throwaway SoftHSM2 token for tests: its own softhsm2.conf and token directory under a
// temporary folder, initialised with softhsm2-util. Fails (never skips) when the Debian
// package softhsm2 is missing.
//
// SoftHSM reads SOFTHSM2_CONF once, at C_Initialize, and keeps its token list for the life
// of that initialisation: set the variable before any wrapper loads the module, and use one
// token per test process (a second token's directory is invisible to an already initialised
// module).

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const SOFTHSM_UTIL = 'softhsm2-util';
const MISSING =
  'SoftHSM2 is required for the PKCS#11 tests: install the Debian package softhsm2 ' +
  '(apt-get install softhsm2), which provides /usr/lib/softhsm/libsofthsm2.so and softhsm2-util';

export interface SoftHsmToken {
  modulePath: string;
  tokenLabel: string;
  /** User PIN of the token. */
  pin: string;
  /** Security officer PIN, for tests that administer the token. */
  soPin: string;
  /** The softhsm2.conf this token lives under; also set as process.env.SOFTHSM2_CONF. */
  confPath: string;
  /** Restores SOFTHSM2_CONF and removes the token directory. */
  cleanup(): void;
}

function utilAvailable(): boolean {
  try {
    execFileSync(SOFTHSM_UTIL, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Creates and initialises a fresh token; throws naming the Debian package when absent. */
export function createSoftHsmToken(label = 'kmipd-test'): SoftHsmToken {
  if (!existsSync(SOFTHSM_MODULE) || !utilAvailable()) throw new Error(MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'kmipd-softhsm-'));
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir, { mode: 0o700 });
  const confPath = join(dir, 'softhsm2.conf');
  writeFileSync(
    confPath,
    `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
    { mode: 0o600 },
  );
  const previous = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = confPath;
  const pin = randomBytes(6).toString('hex');
  const soPin = randomBytes(6).toString('hex');
  const restore = () => {
    if (previous === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = previous;
  };
  try {
    execFileSync(
      SOFTHSM_UTIL,
      ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin],
      { env: { ...process.env, SOFTHSM2_CONF: confPath }, stdio: 'pipe' },
    );
  } catch (err) {
    restore();
    rmSync(dir, { recursive: true, force: true });
    // The command line holds the PINs, so report only the tool's own output and status.
    const e = err as { stderr?: Buffer; status?: number | null };
    const stderr = e.stderr?.toString().trim() ?? '';
    throw new Error(`softhsm2-util --init-token failed (exit ${e.status ?? '?'}): ${stderr}`);
  }
  return {
    modulePath: SOFTHSM_MODULE,
    tokenLabel: label,
    pin,
    soPin,
    confPath,
    cleanup() {
      restore();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
