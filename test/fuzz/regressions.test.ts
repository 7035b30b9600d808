// Numbered regressions found by the fuzzer (npm run fuzz). Each case file holds the frame as
// sent (hex, `#` comments); every case must be answered with one Response Message, never
// crash the server or end the connection.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SoftwareKeyWrapper } from '../../src/crypto/software-key-wrapper.js';
import { item } from '../../src/kmip/items.js';
import { MessageLayer } from '../../src/server/message-layer.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import { MAX_QUERY_FILTERS, type ObjectStore } from '../../src/store/object-store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { Operation, ResultReason, ResultStatus, Tag } from '../../src/ttlv/spec/generated.js';
import { readResponse, requestBytes } from '../helpers/kmip-test-client.js';

const CASES = join(dirname(fileURLToPath(import.meta.url)), 'cases');

function load(name: string): Buffer {
  const text = readFileSync(join(CASES, name), 'utf8');
  return Buffer.from(text.replace(/#.*$/gm, '').replace(/\s/g, ''), 'hex');
}

async function answer(frame: Buffer, store: ObjectStore = openMemoryStore()) {
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
    store,
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

  // Fixed: the 10M-frame run (seed 20261123, SQLite store) logged two unexpected errors: a
  // Locate with about a thousand attributes made SQLite refuse its WHERE clause ("Expression
  // tree is too large"), answered as General Failure. Locate now takes at most
  // MAX_LOCATE_ATTRIBUTES attributes (Invalid Field), and every store refuses a query of more
  // than MAX_QUERY_FILTERS filters the same way.
  it('002: a Locate with a thousand attributes is an Invalid Field on every store', async () => {
    const names = Array.from({ length: 1000 }, (_, i) =>
      item.struct(Tag.Name, [item.text(Tag.NameValue, `n${i}`), item.enum(Tag.NameType, 1)]),
    );
    const frame = requestBytes('2.1', [
      { operation: Operation.Locate, payload: [item.struct(Tag.Attributes, names)] },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'kmipd-regression-'));
    const sqlite = await openSqliteStore({ path: dir });
    try {
      for (const store of [openMemoryStore(), sqlite]) {
        const { response, errors } = await answer(frame, store);
        expect(response.batchItems[0]?.resultReason).toBe(ResultReason.InvalidField);
        expect(response.batchItems[0]?.resultMessage).toMatch(/at most 128 attributes/);
        expect(errors).toEqual([]);
        const filters = Array.from({ length: MAX_QUERY_FILTERS + 1 }, (_, i) => ({
          name: 'Name',
          op: 'eq' as const,
          value: `n${i}`,
        }));
        await expect(store.locate({ filters })).rejects.toMatchObject({
          reason: ResultReason.InvalidField,
        });
        // At the limit, SQLite still builds the query.
        expect(await store.locate({ filters: filters.slice(1) })).toEqual([]);
      }
    } finally {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
