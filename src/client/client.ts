// KmipClient: typed KMIP operations over a pool of mutual-TLS connections. Every call is a
// request message with one or more batch items; the payload of each is written and read by the
// server's own schemas (./operations.ts), shaped for the protocol version agreed with the
// server (Discover Versions, KMIP 2.1 §6.1.19, unless one is fixed).

import type { Attribute } from '../kmip/attributes.js';
import {
  RequestMessage,
  type ResponseBatchItem,
  ResponseMessage,
  UsernamePassword,
} from '../kmip/messages.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import { ItemType } from '../ttlv/item.js';
import {
  BatchErrorContinuationOption,
  CredentialType,
  ResultStatus,
  Tag,
} from '../ttlv/spec/generated.js';
import { KMIP_VERSIONS, type KmipVersion, versionFrom } from '../ttlv/spec/index.js';
import type { AttributeInput, EnumInput } from './attributes.js';
import { enumText } from './attributes.js';
import { KmipConnection } from './connection.js';
import {
  type CryptoArgs,
  type DecryptArgs,
  decryptOp,
  type EncryptArgs,
  encryptOp,
  type HashArgs,
  hashOp,
  type MacVerifyArgs,
  macOp,
  macVerifyOp,
  rngRetrieveOp,
  signatureVerifyOp,
  signOp,
  type VerifyArgs,
} from './crypto-operations.js';
import { KmipOperationError, KmipProtocolError } from './errors.js';
import type { RegisterInput } from './objects.js';
import {
  activateOp,
  addAttributeOp,
  archiveOp,
  type CreateArgs,
  type CreateKeyPairArgs,
  createKeyPairOp,
  createOp,
  type DeleteAttributeArgs,
  deleteAttributeOp,
  destroyOp,
  discoverVersionsOp,
  type GetArgs,
  type GetAttributesArgs,
  getAttributeListOp,
  getAttributesOp,
  getOp,
  type LocateArgs,
  locateOp,
  type ModifyAttributeArgs,
  modifyAttributeOp,
  type OpSpec,
  obtainLeaseOp,
  queryOp,
  type ReKeyArgs,
  type ReKeyKeyPairArgs,
  type RevokeArgs,
  recoverOp,
  registerOp,
  reKeyKeyPairOp,
  reKeyOp,
  revokeOp,
  setAttributeOp,
  type Target,
} from './operations.js';
import { ConnectionPool } from './pool.js';

export interface ClientOptions {
  host: string;
  port: number;
  /** PEM client certificate, key and CA bundle (contents, not paths). */
  cert: string | Buffer;
  key: string | Buffer;
  ca: string | Buffer;
  servername?: string;
  /** Protocol version, or 'auto' (default): the highest both sides support. */
  version?: KmipVersion | 'auto';
  /** Connections kept open; requests beyond that wait for a free one. Default 1. */
  poolSize?: number;
  /** Time allowed for each response. Default 30 s. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * A Username and Password Credential sent in every request header, for a server that checks
   * one as a second factor (kmipd --users-file). Default none.
   */
  credential?: { username: string; password: string };
}

export interface SendOptions {
  /** Overrides the client's request timeout for this message. */
  timeoutMs?: number;
}

export interface BatchOptions extends SendOptions {
  /** Batch Error Continuation Option: what the server does after a failed item. Default stop. */
  onError?: 'stop' | 'continue' | 'undo';
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: Error };

// biome-ignore lint/suspicious/noExplicitAny: a batch holds items of unrelated operations
type AnySpec = OpSpec<any, any, any, any>;

interface Pending {
  spec: AnySpec;
  args: unknown;
}

const CONTINUATION = {
  stop: BatchErrorContinuationOption.Stop,
  continue: BatchErrorContinuationOption.Continue,
  undo: BatchErrorContinuationOption.Undo,
} as const;

/** Versions this client speaks, highest first: the preference order sent in Discover Versions. */
const PREFERENCE = [...KMIP_VERSIONS].reverse();

export class KmipClient {
  private negotiated: KmipVersion;

  private constructor(
    private readonly pool: ConnectionPool,
    version: KmipVersion,
    private readonly timeoutMs: number,
    private readonly credential?: ClientOptions['credential'],
  ) {
    this.negotiated = version;
  }

  static async connect(opts: ClientOptions): Promise<KmipClient> {
    const timeoutMs = opts.requestTimeoutMs ?? 30_000;
    const pool = new ConnectionPool(
      () =>
        KmipConnection.open({
          host: opts.host,
          port: opts.port,
          cert: opts.cert,
          key: opts.key,
          ca: opts.ca,
          servername: opts.servername,
          connectTimeoutMs: opts.connectTimeoutMs,
          // The pool enforces the request timeout; this is only a backstop.
          requestTimeoutMs: timeoutMs + 5_000,
        }),
      opts.poolSize ?? 1,
    );
    const fixed = opts.version === undefined || opts.version === 'auto' ? undefined : opts.version;
    const client = new KmipClient(pool, fixed ?? '1.1', timeoutMs, opts.credential);
    if (fixed === undefined) {
      try {
        client.negotiated = await client.negotiate();
      } catch (err) {
        await pool.close();
        throw err;
      }
    }
    return client;
  }

  /** The protocol version of every request this client sends. */
  get version(): KmipVersion {
    return this.negotiated;
  }

  /** The connection pool's state: size, open connections, idle ones, waiting requests. */
  poolStats() {
    return this.pool.stats();
  }

  /** Closes idle connections now and busy ones when their request completes. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /**
   * Discover Versions sent as 1.1 (the first version that has it); a server that refuses it
   * speaks only 1.0.
   */
  private async negotiate(): Promise<KmipVersion> {
    let offered: string[];
    try {
      offered = await this.discoverVersions(PREFERENCE);
    } catch (err) {
      if (err instanceof KmipOperationError) return '1.0';
      throw err;
    }
    const common = PREFERENCE.filter((v) => offered.includes(v));
    if (common.length === 0) {
      throw new KmipProtocolError(`no common protocol version (server: ${offered.join(', ')})`);
    }
    return common[0]!;
  }

  private authentication(version: KmipVersion) {
    if (this.credential === undefined) return undefined;
    const value = UsernamePassword.write(Tag.CredentialValue, this.credential, version);
    return {
      credentials: [{ credentialType: CredentialType.UsernameAndPassword, credentialValue: value }],
    };
  }

  /** A batch of operations sent as one request message. */
  batch(options: BatchOptions = {}): Batch<[]> {
    return new Batch(this, options);
  }

  /** @internal Sends the items as one request message and settles each. */
  async sendItems(items: Pending[], options: BatchOptions = {}): Promise<Settled<unknown>[]> {
    const version = this.negotiated;
    const [major, minor] = version.split('.').map(Number) as [number, number];
    const withIds = items.length > 1;
    const message = RequestMessage.write(
      Tag.RequestMessage,
      {
        header: {
          protocolVersion: { major, minor },
          batchCount: items.length,
          batchErrorContinuationOption:
            options.onError === undefined ? undefined : CONTINUATION[options.onError],
          batchOrderOption: withIds ? true : undefined,
          authentication: this.authentication(version),
        },
        batchItems: items.map((p, i) => ({
          operation: p.spec.operation,
          uniqueBatchItemId: withIds ? batchItemId(i) : undefined,
          requestPayload: p.spec.schemas.request.write(
            Tag.RequestPayload,
            p.spec.payload(p.args, version),
            version,
          ),
        })),
      },
      version,
    );
    const frame = await this.pool.send(encodeTtlv(message), options.timeoutMs ?? this.timeoutMs);
    const response = ResponseMessage.read(decodeTtlv(frame), version);
    const { major: rMajor, minor: rMinor } = response.header.protocolVersion;
    const readAs = versionFrom(rMajor, rMinor) ?? version;
    return settle(items, response.batchItems, readAs);
  }

  /** @internal One operation as a message of its own; a failure is thrown. */
  async call<A, Req, Res, R>(spec: OpSpec<A, Req, Res, R>, args: A): Promise<R> {
    const [only] = await this.sendItems([{ spec: spec as AnySpec, args }]);
    if (only!.ok) return only!.value as R;
    throw only!.error;
  }

  discoverVersions(versions?: readonly KmipVersion[]): Promise<string[]> {
    return this.call(discoverVersionsOp, { versions });
  }
  query(functions?: readonly EnumInput[]) {
    return this.call(queryOp, { functions });
  }
  create(attributes: CreateArgs) {
    return this.call(createOp, attributes);
  }
  createKeyPair(args: CreateKeyPairArgs) {
    return this.call(createKeyPairOp, args);
  }
  register(input: RegisterInput) {
    return this.call(registerOp, input);
  }
  get(uid: string, opts: Omit<GetArgs, 'uid'> = {}) {
    return this.call(getOp, { ...opts, uid });
  }
  getAttributes(uid: string, names?: readonly string[]) {
    return this.call(getAttributesOp, { uid, names });
  }
  getAttributeList(uid: string) {
    return this.call(getAttributeListOp, { uid });
  }
  addAttribute(uid: string, attribute: AttributeInput | Attribute) {
    return this.call(addAttributeOp, { uid, attribute });
  }
  modifyAttribute(
    uid: string,
    attribute: AttributeInput | Attribute,
    opts: Omit<ModifyAttributeArgs, 'uid' | 'attribute'> = {},
  ) {
    return this.call(modifyAttributeOp, { ...opts, uid, attribute });
  }
  deleteAttribute(uid: string, name: string, opts: Omit<DeleteAttributeArgs, 'uid' | 'name'> = {}) {
    return this.call(deleteAttributeOp, { ...opts, uid, name });
  }
  /** KMIP 2.0+. */
  setAttribute(uid: string, attribute: AttributeInput | Attribute) {
    return this.call(setAttributeOp, { uid, attribute });
  }
  locate(criteria: LocateArgs = {}) {
    return this.call(locateOp, criteria);
  }
  activate(uid: string) {
    return this.call(activateOp, { uid });
  }
  revoke(uid: string, opts: Omit<RevokeArgs, 'uid'> = {}) {
    return this.call(revokeOp, { ...opts, uid });
  }
  destroy(uid: string) {
    return this.call(destroyOp, { uid });
  }
  archive(uid: string) {
    return this.call(archiveOp, { uid });
  }
  recover(uid: string) {
    return this.call(recoverOp, { uid });
  }
  obtainLease(uid: string) {
    return this.call(obtainLeaseOp, { uid });
  }
  /** A new key replacing `uid`, with the old key's attributes (KMIP 2.1 §6.1.40). */
  reKey(uid: string, opts: Omit<ReKeyArgs, 'uid'> = {}) {
    return this.call(reKeyOp, { ...opts, uid });
  }
  reKeyKeyPair(privateKeyUid: string, opts: Omit<ReKeyKeyPairArgs, 'privateKeyUid'> = {}) {
    return this.call(reKeyKeyPairOp, { ...opts, privateKeyUid });
  }
  encrypt(uid: string, data: Uint8Array, opts: Omit<EncryptArgs, 'uid' | 'data'> = {}) {
    return this.call(encryptOp, { ...opts, uid, data });
  }
  decrypt(uid: string, data: Uint8Array, opts: Omit<DecryptArgs, 'uid' | 'data'> = {}) {
    return this.call(decryptOp, { ...opts, uid, data });
  }
  sign(uid: string, data: Uint8Array, opts: Omit<CryptoArgs, 'uid' | 'data'> = {}) {
    return this.call(signOp, { ...opts, uid, data });
  }
  signatureVerify(
    uid: string,
    data: Uint8Array,
    signature: Uint8Array,
    opts: Omit<VerifyArgs, 'uid' | 'data' | 'signature'> = {},
  ) {
    return this.call(signatureVerifyOp, { ...opts, uid, data, signature });
  }
  mac(uid: string, data: Uint8Array, opts: Omit<CryptoArgs, 'uid' | 'data'> = {}) {
    return this.call(macOp, { ...opts, uid, data });
  }
  macVerify(
    uid: string,
    data: Uint8Array,
    mac: Uint8Array,
    opts: Omit<MacVerifyArgs, 'uid' | 'data' | 'mac'> = {},
  ) {
    return this.call(macVerifyOp, { ...opts, uid, data, mac });
  }
  hash(data: Uint8Array, algorithm?: HashArgs['algorithm']) {
    return this.call(hashOp, { data, algorithm });
  }
  rngRetrieve(length: number) {
    return this.call(rngRetrieveOp, { length });
  }
}

function batchItemId(i: number): Uint8Array {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(i + 1);
  return id;
}

/** Pairs response items with requests (by Unique Batch Item ID, else by position). */
function settle(
  items: Pending[],
  responses: ResponseBatchItem[],
  version: KmipVersion,
): Settled<unknown>[] {
  // A message-level failure answers a whole batch with one item.
  if (items.length > 1 && responses.length === 1 && responses[0]!.uniqueBatchItemId === undefined) {
    const only = responses[0]!;
    if (only.resultStatus !== ResultStatus.Success) {
      return items.map((p, i) => ({ ok: false, error: failure(only, p, i) }));
    }
  }
  const byId = new Map<string, ResponseBatchItem>();
  for (const r of responses) {
    if (r.uniqueBatchItemId !== undefined)
      byId.set(Buffer.from(r.uniqueBatchItemId).toString('hex'), r);
  }
  return items.map((p, i): Settled<unknown> => {
    const r =
      items.length > 1 ? byId.get(Buffer.from(batchItemId(i)).toString('hex')) : responses[0];
    if (r === undefined) {
      return {
        ok: false,
        error: new KmipProtocolError(
          `no response for batch item ${i} (${enumText(Tag.Operation, p.spec.operation)}); an earlier item may have failed`,
        ),
      };
    }
    if (r.resultStatus !== ResultStatus.Success) return { ok: false, error: failure(r, p, i) };
    const payload = r.responsePayload ?? {
      tag: Tag.ResponsePayload,
      type: ItemType.Structure,
      value: [],
    };
    try {
      const res = p.spec.schemas.response.read(payload, version);
      return { ok: true, value: p.spec.result(res, version) };
    } catch (err) {
      return {
        ok: false,
        error: new KmipProtocolError(
          `cannot read the ${enumText(Tag.Operation, p.spec.operation)} response: ${(err as Error).message}`,
        ),
      };
    }
  });
}

function failure(r: ResponseBatchItem, p: Pending, batchIndex: number): KmipOperationError {
  return new KmipOperationError({
    resultStatus: r.resultStatus,
    resultReason: r.resultReason,
    resultMessage: r.resultMessage,
    operation: enumText(Tag.Operation, r.operation ?? p.spec.operation),
    batchIndex,
  });
}

type Result<S> = S extends OpSpec<infer _A, infer _Req, infer _Res, infer R> ? R : never;

/**
 * Operations sent together in one request message, in order. An item without `uid` acts on
 * the ID Placeholder: the object the previous item created or named (KMIP 2.1 §2.1.14), e.g.
 * `client.batch().create({...}).activate().get().send()`.
 */
export class Batch<R extends unknown[]> {
  private readonly items: Pending[] = [];

  constructor(
    private readonly client: KmipClient,
    private readonly options: BatchOptions,
  ) {}

  private add<S extends AnySpec>(spec: S, args: unknown): Batch<[...R, Result<S>]> {
    this.items.push({ spec, args });
    return this as unknown as Batch<[...R, Result<S>]>;
  }

  get length(): number {
    return this.items.length;
  }

  /** Every item's result, in order; the first failure is thrown. */
  async send(options: SendOptions = {}): Promise<R> {
    const settled = await this.settle(options);
    const failed = settled.find((s) => !s.ok);
    if (failed !== undefined && !failed.ok) throw failed.error;
    return settled.map((s) => (s as { value: unknown }).value) as R;
  }

  /** Every item's outcome, failures included. */
  settle(options: SendOptions = {}): Promise<Settled<unknown>[]> {
    if (this.items.length === 0) return Promise.resolve([]);
    return this.client.sendItems(this.items, { ...this.options, ...options });
  }

  discoverVersions(versions?: readonly KmipVersion[]) {
    return this.add(discoverVersionsOp, { versions });
  }
  query(functions?: readonly EnumInput[]) {
    return this.add(queryOp, { functions });
  }
  create(attributes: CreateArgs) {
    return this.add(createOp, attributes);
  }
  createKeyPair(args: CreateKeyPairArgs) {
    return this.add(createKeyPairOp, args);
  }
  register(input: RegisterInput) {
    return this.add(registerOp, input);
  }
  get(args: GetArgs = {}) {
    return this.add(getOp, args);
  }
  getAttributes(args: GetAttributesArgs = {}) {
    return this.add(getAttributesOp, args);
  }
  getAttributeList(args: Target = {}) {
    return this.add(getAttributeListOp, args);
  }
  addAttribute(args: { uid?: string; attribute: AttributeInput | Attribute }) {
    return this.add(addAttributeOp, args);
  }
  modifyAttribute(args: ModifyAttributeArgs) {
    return this.add(modifyAttributeOp, args);
  }
  deleteAttribute(args: DeleteAttributeArgs) {
    return this.add(deleteAttributeOp, args);
  }
  setAttribute(args: { uid?: string; attribute: AttributeInput | Attribute }) {
    return this.add(setAttributeOp, args);
  }
  locate(criteria: LocateArgs = {}) {
    return this.add(locateOp, criteria);
  }
  activate(args: Target = {}) {
    return this.add(activateOp, args);
  }
  revoke(args: RevokeArgs = {}) {
    return this.add(revokeOp, args);
  }
  destroy(args: Target = {}) {
    return this.add(destroyOp, args);
  }
  archive(args: Target = {}) {
    return this.add(archiveOp, args);
  }
  recover(args: Target = {}) {
    return this.add(recoverOp, args);
  }
  obtainLease(args: Target = {}) {
    return this.add(obtainLeaseOp, args);
  }
  reKey(args: ReKeyArgs = {}) {
    return this.add(reKeyOp, args);
  }
  reKeyKeyPair(args: ReKeyKeyPairArgs = {}) {
    return this.add(reKeyKeyPairOp, args);
  }
  encrypt(args: EncryptArgs) {
    return this.add(encryptOp, args);
  }
  decrypt(args: DecryptArgs) {
    return this.add(decryptOp, args);
  }
  sign(args: CryptoArgs) {
    return this.add(signOp, args);
  }
  signatureVerify(args: VerifyArgs) {
    return this.add(signatureVerifyOp, args);
  }
  mac(args: CryptoArgs) {
    return this.add(macOp, args);
  }
  macVerify(args: MacVerifyArgs) {
    return this.add(macVerifyOp, args);
  }
  hash(args: HashArgs) {
    return this.add(hashOp, args);
  }
  rngRetrieve(length: number) {
    return this.add(rngRetrieveOp, { length });
  }
}
