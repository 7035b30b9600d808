// `kmipd serve` KEK options: they choose KEK version 1 on first start, clear one-line errors
// for a bad choice, and neither the KEK nor a PIN ever reaches the log.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKekId } from '../../src/crypto/software-key-wrapper.js';
import { runKmipd, startKmipdProcess } from '../helpers/kmipd-process.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kmipd-serve-kek-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('kmipd serve KEK options', () => {
  it('--kek-env on first start: version 1 reads the variable, the log names its id and kind only', async () => {
    const kek = randomBytes(32);
    process.env.KMIPD_SERVE_TEST_KEK = kek.toString('hex');
    const server = await startKmipdProcess({
      store: 'sqlite',
      args: ['--kek-env', 'KMIPD_SERVE_TEST_KEK'],
    });
    try {
      const d = JSON.parse(await readFile(join(server.dataDir, 'keks', '0001.json'), 'utf8'));
      expect(d).toMatchObject({ version: 1, kind: 'env', envName: 'KMIPD_SERVE_TEST_KEK' });
      expect(d.kekId).toBe(deriveKekId(kek));
      expect(server.logs()).toContainEqual(
        expect.objectContaining({ msg: 'created KEK version 1', kekId: d.kekId, kekKind: 'env' }),
      );
      const text = JSON.stringify(server.logs()) + server.stderr();
      expect(text).not.toContain(kek.toString('hex'));
      expect(text).not.toContain(kek.toString('base64'));
    } finally {
      delete process.env.KMIPD_SERVE_TEST_KEK;
      await server.stop();
    }
  });

  it.each([
    [
      ['--kek-env', 'KMIPD_UNSET_VARIABLE_FOR_TEST'],
      'environment variable KMIPD_UNSET_VARIABLE_FOR_TEST is unset',
    ],
    [
      ['--kek-env', 'A', '--kek-passphrase-env', 'B'],
      'choose one KEK source, not --kek-env and --kek-passphrase-env',
    ],
    [
      ['--hsm-module', '/nowhere/libpkcs11.so', '--hsm-token', 't', '--hsm-pin-env', 'P'],
      'needs --hsm-kek-label',
    ],
  ])('%j: exit 1 with one clear line', async (args, message) => {
    const r = await runKmipd(['serve', '--data-dir', join(scratch, 'bad'), '--port', '0', ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kmipd: /);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
