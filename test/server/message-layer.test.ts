// The message layer (KMIP 2.1 §8-9): versions, batches, placeholders, continuation options,
// Maximum Response Size, correlation values, credentials, and errors as failed batch items.

import { describe, expect, it } from 'vitest';
import { item } from '../../src/kmip/items.js';
import { ItemType } from '../../src/ttlv/item.js';
import {
  BatchErrorContinuationOption,
  CredentialType,
  CryptographicAlgorithm,
  ObjectType,
  Operation,
  QueryFunction,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import {
  find,
  payloadOf,
  readResponse,
  requestBytes,
  testServer,
} from '../helpers/kmip-test-client.js';

const aes256 = (version: '1.4' | '2.1') =>
  version === '2.1'
    ? [
        item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
        item.struct(Tag.Attributes, [
          item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
          item.int(Tag.CryptographicLength, 256),
        ]),
      ]
    : [
        item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
        item.struct(Tag.TemplateAttribute, [
          item.struct(Tag.Attribute, [
            item.text(Tag.AttributeName, 'Cryptographic Algorithm'),
            item.enum(Tag.AttributeValue, CryptographicAlgorithm.AES),
          ]),
          item.struct(Tag.Attribute, [
            item.text(Tag.AttributeName, 'Cryptographic Length'),
            item.int(Tag.AttributeValue, 256),
          ]),
        ]),
      ];

describe('protocol versions', () => {
  it('Discover Versions lists every supported version, highest first', async () => {
    const s = testServer();
    const res = await s.send('1.2', [{ operation: Operation.DiscoverVersions }]);
    const versions = payloadOf(res.batchItems[0]).map((v) =>
      v.type === ItemType.Structure ? v.value.map((x) => x.value).join('.') : '',
    );
    expect(versions).toEqual(['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0']);
    expect(res.header.protocolVersion).toEqual({ major: 1, minor: 2 });
  });

  it('Discover Versions keeps only the client versions the server speaks', async () => {
    const s = testServer();
    const pv = (major: number, minor: number) =>
      item.struct(Tag.ProtocolVersion, [
        item.int(Tag.ProtocolVersionMajor, major),
        item.int(Tag.ProtocolVersionMinor, minor),
      ]);
    const res = await s.send('1.4', [
      { operation: Operation.DiscoverVersions, payload: [pv(3, 0), pv(1, 4), pv(1, 1)] },
    ]);
    expect(payloadOf(res.batchItems[0])).toHaveLength(2);
  });

  it('answers an unsupported version with the highest supported one and Invalid Message', async () => {
    const s = testServer();
    const bytes = requestBytes('2.1', [{ operation: Operation.DiscoverVersions }]);
    // Protocol Version Minor sits at a fixed offset in this message: make it 3.0.
    bytes.writeInt32BE(3, 32);
    bytes.writeInt32BE(0, 48);
    const res = readResponse(await s.raw(bytes));
    expect(res.header.protocolVersion).toEqual({ major: 2, minor: 1 });
    expect(res.batchItems[0]?.resultStatus).toBe(ResultStatus.OperationFailed);
    expect(res.batchItems[0]?.resultReason).toBe(ResultReason.InvalidMessage);
  });

  it('answers bytes that do not decode with Invalid Message in the client version', async () => {
    const s = testServer();
    const bytes = requestBytes('1.1', [
      {
        operation: Operation.Query,
        payload: [item.enum(Tag.QueryFunction, QueryFunction.QueryOperations)],
      },
    ]);
    bytes[bytes.length - 1] = 0xff; // the Enumeration's padding
    const res = readResponse(await s.raw(bytes));
    expect(res.header.protocolVersion).toEqual({ major: 1, minor: 1 });
    expect(res.batchItems[0]?.resultReason).toBe(ResultReason.InvalidMessage);
    expect(res.batchItems[0]?.resultMessage).toMatch(/padding/);
  });

  it('rejects a Batch Count that disagrees with the batch items', async () => {
    const s = testServer();
    const bytes = requestBytes('1.4', [{ operation: Operation.DiscoverVersions }]);
    const at = bytes.indexOf(
      Buffer.from([Tag.BatchCount >> 16, (Tag.BatchCount >> 8) & 0xff, Tag.BatchCount & 0xff, 2]),
    );
    bytes.writeInt32BE(2, at + 8);
    const res = readResponse(await s.raw(bytes));
    expect(res.batchItems[0]?.resultReason).toBe(ResultReason.InvalidMessage);
  });
});

describe('batches', () => {
  it('carries the ID Placeholder from Create to Get and echoes Unique Batch Item IDs', async () => {
    const s = testServer();
    const res = await s.send('2.1', [
      { operation: Operation.Create, payload: aes256('2.1'), id: Buffer.from('01', 'hex') },
      { operation: Operation.Get, id: Buffer.from('02', 'hex') },
    ]);
    expect(res.batchItems.map((b) => b.resultStatus)).toEqual([
      ResultStatus.Success,
      ResultStatus.Success,
    ]);
    expect(res.batchItems.map((b) => Buffer.from(b.uniqueBatchItemId!).toString('hex'))).toEqual([
      '01',
      '02',
    ]);
    const created = find(payloadOf(res.batchItems[0]), Tag.UniqueIdentifier)?.value;
    expect(find(payloadOf(res.batchItems[1]), Tag.UniqueIdentifier)?.value).toBe(created);
    expect(find(payloadOf(res.batchItems[1]), Tag.SymmetricKey)).toBeDefined();
  });

  it('stops at the first failure by default', async () => {
    const s = testServer();
    const res = await s.send('1.4', [
      { operation: Operation.Get, payload: [item.text(Tag.UniqueIdentifier, 'missing')] },
      { operation: Operation.Create, payload: aes256('1.4') },
    ]);
    expect(res.batchItems).toHaveLength(1);
    expect(res.batchItems[0]?.resultReason).toBe(ResultReason.ItemNotFound);
    expect(await s.store.count()).toBe(0);
  });

  it('continues after a failure with Continue', async () => {
    const s = testServer();
    const res = await s.send(
      '1.4',
      [
        { operation: Operation.Get, payload: [item.text(Tag.UniqueIdentifier, 'missing')] },
        { operation: Operation.Create, payload: aes256('1.4') },
      ],
      { batchErrorContinuationOption: BatchErrorContinuationOption.Continue },
    );
    expect(res.batchItems.map((b) => b.resultStatus)).toEqual([
      ResultStatus.OperationFailed,
      ResultStatus.Success,
    ]);
    expect(await s.store.count()).toBe(1);
  });

  it('undoes earlier items with Undo', async () => {
    const s = testServer();
    const res = await s.send(
      '1.4',
      [
        { operation: Operation.Create, payload: aes256('1.4') },
        { operation: Operation.Get, payload: [item.text(Tag.UniqueIdentifier, 'missing')] },
      ],
      { batchErrorContinuationOption: BatchErrorContinuationOption.Undo },
    );
    expect(res.batchItems.map((b) => b.resultStatus)).toEqual([
      ResultStatus.OperationUndone,
      ResultStatus.OperationFailed,
    ]);
    expect(await s.store.count()).toBe(0);
  });

  it('answers an operation without a handler with Operation Not Supported', async () => {
    const s = testServer();
    // An operation value no KMIP version defines (vendor range).
    const res = await s.send('1.4', [{ operation: 0x8000_0001 }]);
    expect(res.batchItems[0]?.resultReason).toBe(ResultReason.OperationNotSupported);
  });

  it('refuses the Asynchronous Indicator cleanly', async () => {
    const s = testServer();
    const res = await s.send('1.4', [{ operation: Operation.DiscoverVersions }], {
      asynchronousIndicator: true,
    });
    expect(res.batchItems[0]?.resultReason).toBe(ResultReason.FeatureNotSupported);
  });

  it('replaces a payload over Maximum Response Size by Response Too Large', async () => {
    const s = testServer();
    const query = {
      operation: Operation.Query,
      payload: [
        item.enum(Tag.QueryFunction, QueryFunction.QueryOperations),
        item.enum(Tag.QueryFunction, QueryFunction.QueryObjects),
      ],
    };
    const small = await s.send('1.4', [query], { maximumResponseSize: 256 });
    expect(small.batchItems[0]?.resultReason).toBe(ResultReason.ResponseTooLarge);
    const large = await s.send('1.4', [query], { maximumResponseSize: 4096 });
    expect(large.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
  });

  it('echoes the Client Correlation Value from 1.4 on', async () => {
    const s = testServer();
    const res = await s.send('1.4', [{ operation: Operation.DiscoverVersions }], {
      clientCorrelationValue: 'step=0',
    });
    expect(res.header.clientCorrelationValue).toBe('step=0');
    expect(res.header.serverCorrelationValue).toBeTypeOf('string');
  });
});

describe('credentials', () => {
  const credential = (username: string, password: string) =>
    item.struct(Tag.Authentication, [
      item.struct(Tag.Credential, [
        item.enum(Tag.CredentialType, CredentialType.UsernameAndPassword),
        item.struct(Tag.CredentialValue, [
          item.text(Tag.Username, username),
          item.text(Tag.Password, password),
        ]),
      ]),
    ]);

  it('accepts a username and password by default, the certificate decides', async () => {
    const s = testServer();
    const res = await s.send('1.2', [{ operation: Operation.DiscoverVersions }], {
      authentication: credential('barbican', 'anything'),
    });
    expect(res.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
  });

  it('checks them when verification is configured', async () => {
    const s = testServer({ verifyCredential: (u, p) => u === 'barbican' && p === 'right' });
    const ok = await s.send('1.2', [{ operation: Operation.DiscoverVersions }], {
      authentication: credential('barbican', 'right'),
    });
    const bad = await s.send('1.2', [{ operation: Operation.DiscoverVersions }], {
      authentication: credential('barbican', 'wrong'),
    });
    expect(ok.batchItems[0]?.resultStatus).toBe(ResultStatus.Success);
    expect(bad.batchItems[0]?.resultReason).toBe(ResultReason.AuthenticationNotSuccessful);
    expect(bad.batchItems[0]?.resultMessage).not.toContain('wrong');
  });

  it('fails every batch item of a message with a bad credential, echoing operation and id', async () => {
    const s = testServer({ verifyCredential: () => false });
    const res = await s.send(
      '1.0',
      [
        { operation: Operation.DiscoverVersions, id: Buffer.from('0a', 'hex') },
        { operation: Operation.Query, id: Buffer.from('0b', 'hex') },
      ],
      { authentication: credential('fortigate', 'nope') },
    );
    expect(
      res.batchItems.map((b) => [
        b.operation,
        Buffer.from(b.uniqueBatchItemId!).toString('hex'),
        b.resultReason,
      ]),
    ).toEqual([
      [Operation.DiscoverVersions, '0a', ResultReason.AuthenticationNotSuccessful],
      [Operation.Query, '0b', ResultReason.AuthenticationNotSuccessful],
    ]);
  });
});
