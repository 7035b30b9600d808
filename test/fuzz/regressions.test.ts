// Numbered regressions found by the fuzzer (npm run fuzz). Each case file holds the frame as
// sent (hex, `#` comments); every case must be answered with one Response Message, never
// crash the server or end the connection.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { MessageLayer } from '../../src/server/message-layer.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import { ResultReason, ResultStatus } from '../../src/ttlv/spec/generated.js';
import { readResponse } from '../helpers/kmip-test-client.js';

const CASES = join(dirname(fileURLToPath(import.meta.url)), 'cases');

function load(name: string): Buffer {
  const text = readFileSync(join(CASES, name), 'utf8');
  return Buffer.from(text.replace(/#.*$/gm, '').replace(/\s/g, ''), 'hex');
}

async function answer(frame: Buffer) {
  const errors: string[] = [];
  const log = pino(
    { level: 'error' },
    new Writable({
      write(chunk, _enc, done) {
        errors.push(String(chunk));
        done();
      },
    }),
  );
  const layer = new MessageLayer({
    store: openMemoryStore(),
    wrapper: new SoftwareKeyWrapper(Buffer.alloc(32, 3)),
    log,
  });
  const response = readResponse(await layer.process(frame, { identity: 'admin' }));
  await new Promise((r) => setImmediate(r));
  return { response, errors };
}

describe('fuzz regressions', () => {
  it.each(readdirSync(CASES).filter((n) => n.endsWith('.hex')))('%s is answered', async (name) => {
    const { response } = await answer(load(name));
    expect(response.batchItems.length).toBeGreaterThan(0);
  });

  // Fixed: src/objects/object-attributes.ts nameComponents() re-parsed the certificate with
  // node:crypto X509Certificate, which rejects what the ASN.1 reader accepted, and the error
  // was answered as General Failure and logged as unexpected.
  it('001: a certificate X509Certificate rejects is an Invalid Field, not an unexpected error', async () => {
    const { response, errors } = await answer(load('001-register-certificate-x509-rejects.hex'));
    expect(response.batchItems[0]?.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(response.batchItems[0]?.resultReason).toBe(ResultReason.InvalidField);
    expect(errors).toEqual([]);
  });
});
