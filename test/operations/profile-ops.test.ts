// Operations the KMIP Profiles' test cases use besides the object operations: Interop and Log
// (KMIP 2.1, Profiles 2.1 §4.1.2) and RNG Seed (KMIP 1.4 §4.37, 2.1 §6.1.44, CS-RNG profile),
// through the message layer in memory: results, payloads, log lines, and each refused request.

import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { item } from '../../src/kmip/items.js';
import { MAX_INTEROP_IDENTIFIER } from '../../src/operations/interop.js';
import { MAX_LOG_MESSAGE } from '../../src/operations/log.js';
import type { TtlvItem } from '../../src/ttlv/item.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  InteropFunction,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import type { KmipVersion } from '../../src/ttlv/spec/index.js';
import { find, payloadOf, testServer } from '../helpers/kmip-test-client.js';

type LogLine = Record<string, unknown>;

/** A test server whose log lines are kept for inspection. */
function loggingServer() {
  const lines: LogLine[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) {
          if (l.trim() !== '') lines.push(JSON.parse(l) as LogLine);
        }
        done();
      },
    }),
  );
  return { s: testServer({ log }), lines };
}

type Server = ReturnType<typeof testServer>;

async function op(s: Server, operation: number, payload: TtlvItem[], version: KmipVersion = '2.1') {
  const res = await s.send(version, [{ operation, payload }], { identity: 'alice' });
  return res.batchItems[0]!;
}

const interopPayload = (fn: number, id: string) => [
  item.enum(Tag.InteropFunction, fn),
  item.text(Tag.InteropIdentifier, id),
];

describe('Interop (KMIP 2.1; optional per Profiles 2.1 §4.1.2)', () => {
  it.each(Object.entries(InteropFunction))(
    'accepts %s with an empty payload and logs the mark',
    async (name, fn) => {
      const { s, lines } = loggingServer();
      const r = await op(s, Operation.Interop, interopPayload(fn, 'BL-M-1-21'));
      expect([r.resultStatus, r.resultReason]).toEqual([ResultStatus.Success, undefined]);
      expect(payloadOf(r)).toEqual([]);
      const mark = lines.find((l) => l.msg === 'interop test case');
      expect(mark).toMatchObject({
        interop: name,
        interopIdentifier: 'BL-M-1-21',
        identity: 'alice',
      });
    },
  );

  it('keeps every object on Reset: it never wipes the store', async () => {
    const { s } = loggingServer();
    const created = await op(s, Operation.Create, [
      item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
      item.struct(Tag.Attributes, [
        item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        item.int(Tag.CryptographicLength, 128),
        item.int(
          Tag.CryptographicUsageMask,
          CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt,
        ),
      ]),
    ]);
    expect(created.resultStatus).toBe(ResultStatus.Success);
    const uid = find(payloadOf(created), Tag.UniqueIdentifier)!;
    await op(s, Operation.Interop, interopPayload(InteropFunction.Reset, 'X'));
    const got = await op(s, Operation.Get, [uid]);
    expect(got.resultStatus).toBe(ResultStatus.Success);
  });

  it('refuses an unknown Interop Function, a missing identifier and an oversized one', async () => {
    const { s } = loggingServer();
    const cases: TtlvItem[][] = [
      interopPayload(99, 'X'),
      [item.enum(Tag.InteropFunction, InteropFunction.Begin)],
      interopPayload(InteropFunction.Begin, 'x'.repeat(MAX_INTEROP_IDENTIFIER + 1)),
    ];
    for (const payload of cases) {
      const r = await op(s, Operation.Interop, payload);
      expect([r.resultStatus, r.resultReason]).toEqual([
        ResultStatus.OperationFailed,
        ResultReason.InvalidField,
      ]);
    }
  });
});

describe('Log (KMIP 2.1)', () => {
  it('writes the Log Message to the server log with the identity and answers an empty payload', async () => {
    const { s, lines } = loggingServer();
    const r = await op(s, Operation.Log, [
      item.text(Tag.LogMessage, 'Registered a symmetric key.'),
    ]);
    expect([r.resultStatus, r.resultReason]).toEqual([ResultStatus.Success, undefined]);
    expect(payloadOf(r)).toEqual([]);
    expect(lines.find((l) => l.msg === 'client log message')).toMatchObject({
      clientLog: 'Registered a symmetric key.',
      truncated: false,
      identity: 'alice',
    });
  });

  it('cuts a long message to the limit and says so', async () => {
    const { s, lines } = loggingServer();
    const r = await op(s, Operation.Log, [item.text(Tag.LogMessage, 'y'.repeat(100_000))]);
    expect(r.resultStatus).toBe(ResultStatus.Success);
    const line = lines.find((l) => l.msg === 'client log message')!;
    expect(line.truncated).toBe(true);
    expect((line.clientLog as string).length).toBe(MAX_LOG_MESSAGE + 1);
  });

  it('refuses a request without a Log Message', async () => {
    const { s } = loggingServer();
    const r = await op(s, Operation.Log, []);
    expect(r.resultReason).toBe(ResultReason.InvalidField);
  });
});

describe('RNG Seed (KMIP 1.4 §4.37, 2.1 §6.1.44)', () => {
  it.each(['1.4', '2.1'] as KmipVersion[])(
    '%s: accepts no seed data and says so with Data Length 0',
    async (version) => {
      const { s } = loggingServer();
      const r = await op(
        s,
        Operation.RNGSeed,
        [item.bytes(Tag.Data, Buffer.alloc(32, 0x33))],
        version,
      );
      expect([r.resultStatus, r.resultReason]).toEqual([ResultStatus.Success, undefined]);
      expect(payloadOf(r)).toEqual([item.int(Tag.DataLength, 0)]);
    },
  );

  it('refuses empty or missing Data', async () => {
    const { s } = loggingServer();
    for (const payload of [[item.bytes(Tag.Data, Buffer.alloc(0))], []]) {
      const r = await op(s, Operation.RNGSeed, payload);
      expect(r.resultReason).toBe(ResultReason.InvalidField);
    }
  });
});
