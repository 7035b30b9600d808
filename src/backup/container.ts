// The encrypted container of a kmipd backup: a plain header naming the key derivation, then
// a sequence of AES-256-GCM chunks, one record each.
//
//   header (52 bytes)   magic "KMIPDBK\0" | format version u16 = 1 | kdf u8 (1 scrypt,
//                       2 key file) | scrypt log2(N) u8 | r u32 | p u32 | salt (32 bytes)
//   chunk i             ciphertext length u32 | ciphertext | GCM tag (16 bytes)
//
// The file key is HKDF-SHA256(master, salt, "kmipd-backup-v1"), where master is scrypt of
// the operator's passphrase or the 32 bytes of the operator's key file; it is never a KEK.
// Chunk i is sealed with nonce = 0x00000000 | u64 i and associated data = header | u64 i |
// final flag, so the header, the order of the chunks and the end of the file are all
// authenticated: a changed header byte fails chunk 0, a reordered or dropped chunk fails
// its neighbour, and a truncated file lacks the chunk marked final.

import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  randomBytes,
  type ScryptOptions,
  scrypt,
} from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';

const MAGIC = Buffer.from('KMIPDBK\0', 'latin1');
const FORMAT_VERSION = 1;
export const HEADER_BYTES = 52;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** A chunk holds one record; the cap stops a corrupt length from allocating gigabytes. */
export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;
const HKDF_INFO = Buffer.from('kmipd-backup-v1');

export const KDF_SCRYPT = 1;
export const KDF_KEY_FILE = 2;

/** scrypt cost for backup passphrases: 2^17 × 8 × 128 bytes = 128 MiB, about 0.3 s. */
export const DEFAULT_BACKUP_SCRYPT = { log2N: 17, r: 8, p: 1 };

export type BackupSecret =
  | { kind: 'passphrase'; passphrase: string; scrypt?: { log2N: number; r: number; p: number } }
  | { kind: 'key'; key: Buffer };

export function backupError(message: string): KmipError {
  return new KmipError(ResultReason.GeneralFailure, message);
}

interface Header {
  bytes: Buffer;
  kdf: number;
  log2N: number;
  r: number;
  p: number;
  salt: Buffer;
}

function encodeHeader(kdf: number, cost: { log2N: number; r: number; p: number }, salt: Buffer) {
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeUInt16BE(FORMAT_VERSION, 8);
  h.writeUInt8(kdf, 10);
  h.writeUInt8(cost.log2N, 11);
  h.writeUInt32BE(cost.r, 12);
  h.writeUInt32BE(cost.p, 16);
  salt.copy(h, 20);
  return h;
}

function decodeHeader(h: Buffer): Header {
  if (h.length < HEADER_BYTES || !h.subarray(0, 8).equals(MAGIC)) {
    throw backupError('not a kmipd backup (bad magic)');
  }
  const version = h.readUInt16BE(8);
  if (version !== FORMAT_VERSION) {
    throw backupError(`kmipd backup format version ${version} is not supported`);
  }
  const kdf = h.readUInt8(10);
  if (kdf !== KDF_SCRYPT && kdf !== KDF_KEY_FILE) {
    throw backupError(`unknown key derivation ${kdf} in the backup header`);
  }
  return {
    bytes: Buffer.from(h.subarray(0, HEADER_BYTES)),
    kdf,
    log2N: h.readUInt8(11),
    r: h.readUInt32BE(12),
    p: h.readUInt32BE(16),
    salt: Buffer.from(h.subarray(20, 52)),
  };
}

function scryptAsync(pass: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((done, fail) => {
    scrypt(pass, salt, KEY_BYTES, opts, (err, key) => (err ? fail(err) : done(key)));
  });
}

async function fileKey(header: Header, secret: BackupSecret): Promise<Buffer> {
  let master: Buffer;
  if (header.kdf === KDF_SCRYPT) {
    if (secret.kind !== 'passphrase') {
      throw backupError('this backup is protected by a passphrase: give --passphrase-env');
    }
    // Bounds on the header's cost stop a forged header from asking for unbounded memory.
    if (header.log2N < 10 || header.log2N > 22 || header.r < 1 || header.r > 32) {
      throw backupError('the backup header asks for an unreasonable scrypt cost');
    }
    if (header.p < 1 || header.p > 16) {
      throw backupError('the backup header asks for an unreasonable scrypt cost');
    }
    const N = 2 ** header.log2N;
    master = await scryptAsync(secret.passphrase, header.salt, {
      N,
      r: header.r,
      p: header.p,
      maxmem: 256 * N * header.r + 64 * 1024 * 1024,
    });
  } else {
    if (secret.kind !== 'key') {
      throw backupError('this backup is protected by a key file: give --key-file');
    }
    if (secret.key.length !== KEY_BYTES) {
      throw backupError(`the backup key must be exactly ${KEY_BYTES} bytes`);
    }
    master = Buffer.from(secret.key);
  }
  const key = Buffer.from(hkdfSync('sha256', master, header.salt, HKDF_INFO, KEY_BYTES));
  master.fill(0);
  return key;
}

function nonce(index: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 4);
  return n;
}

function aad(header: Buffer, index: number, final: boolean): Buffer {
  const a = Buffer.alloc(HEADER_BYTES + 9);
  header.copy(a, 0);
  a.writeBigUInt64BE(BigInt(index), HEADER_BYTES);
  a.writeUInt8(final ? 1 : 0, HEADER_BYTES + 8);
  return a;
}

/** Writes chunks to an open file; the caller owns the file. */
export class ChunkWriter {
  #index = 0;

  private constructor(
    private readonly file: FileHandle,
    private readonly header: Buffer,
    private readonly key: Buffer,
  ) {}

  static async create(file: FileHandle, secret: BackupSecret): Promise<ChunkWriter> {
    const salt = randomBytes(32);
    const cost = secret.kind === 'passphrase' ? (secret.scrypt ?? DEFAULT_BACKUP_SCRYPT) : null;
    const header = encodeHeader(
      cost === null ? KDF_KEY_FILE : KDF_SCRYPT,
      cost ?? { log2N: 0, r: 0, p: 0 },
      salt,
    );
    const key = await fileKey(decodeHeader(header), secret);
    await file.write(header);
    return new ChunkWriter(file, header, key);
  }

  /** Seals one record; `final` marks the last chunk of the file. */
  async write(plain: Buffer, final: boolean): Promise<void> {
    if (plain.length > MAX_CHUNK_BYTES) throw backupError('a backup record is too large');
    const i = this.#index++;
    const c = createCipheriv('aes-256-gcm', this.key, nonce(i));
    c.setAAD(aad(this.header, i, final));
    const body = Buffer.concat([c.update(plain), c.final()]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    await this.file.write(Buffer.concat([len, body, c.getAuthTag()]));
  }

  close(): void {
    this.key.fill(0);
  }
}

/**
 * Reads and authenticates the chunks of a backup in order. Each chunk's plaintext is handed
 * out only after its tag verified; a failure names the chunk but no byte of it.
 */
export async function* readChunks(
  path: string,
  secret: BackupSecret,
): AsyncGenerator<{ index: number; plain: Buffer; final: boolean }> {
  const file = await open(path, 'r');
  let key: Buffer | undefined;
  try {
    const size = (await file.stat()).size;
    const head = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await file.read(head, 0, HEADER_BYTES, 0);
    if (bytesRead < HEADER_BYTES) throw backupError('not a kmipd backup (file too short)');
    const header = decodeHeader(head);
    key = await fileKey(header, secret);
    let pos = HEADER_BYTES;
    for (let i = 0; ; i++) {
      if (pos === size) {
        throw backupError(
          i === 0
            ? 'the backup holds no records: truncated'
            : `the backup ends after record ${i - 1} without its final record: truncated`,
        );
      }
      const len = Buffer.alloc(4);
      if ((await file.read(len, 0, 4, pos)).bytesRead < 4) {
        throw backupError(`record ${i} of the backup is cut short: truncated or damaged`);
      }
      const n = len.readUInt32BE();
      if (n > MAX_CHUNK_BYTES || pos + 4 + n + TAG_BYTES > size) {
        throw backupError(`record ${i} of the backup has a bad length: truncated or damaged`);
      }
      const body = Buffer.alloc(n + TAG_BYTES);
      await file.read(body, 0, body.length, pos + 4);
      pos += 4 + body.length;
      const final = pos === size;
      const d = createDecipheriv('aes-256-gcm', key, nonce(i));
      d.setAAD(aad(header.bytes, i, final));
      d.setAuthTag(body.subarray(n));
      let plain: Buffer;
      try {
        plain = Buffer.concat([d.update(body.subarray(0, n)), d.final()]);
      } catch {
        throw backupError(
          i === 0
            ? 'the backup does not authenticate at its header or first record: wrong passphrase or key, or the file was altered'
            : `record ${i} of the backup does not authenticate: the file was altered, reordered or truncated`,
        );
      }
      yield { index: i, plain, final };
      if (final) return;
    }
  } finally {
    key?.fill(0);
    await file.close();
  }
}
