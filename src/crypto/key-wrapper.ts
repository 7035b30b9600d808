// Protection of key material at rest. Handlers and the store see only WrappedBlob; a
// KeyWrapper (software KEK, later a PKCS#11 HSM) turns plaintext into it and back.

import { KmipError } from '../errors.js';
import type { WrappedBlob } from '../store/object-store.js';
import { ResultReason } from '../ttlv/spec/generated.js';

export type { WrappedBlob };

export interface KeyWrapper {
  /** Public identifier of the key-encryption key; reveals nothing about the key. */
  readonly kekId: string;
  /** Wraps material of object `uid`; implementations bind the blob to the uid where able. */
  wrap(plain: Buffer, uid: string): Promise<WrappedBlob>;
  /** Fails with KmipError(Cryptographic Failure) when the blob does not authenticate. */
  unwrap(w: WrappedBlob, uid: string): Promise<Buffer>;
}

const reasons: Readonly<Record<string, number | undefined>> = ResultReason;

/**
 * Result Reason "Cryptographic Failure" (0x0A), read from the spec table once it lists it.
 * Messages name objects and algorithms, never bytes of keys, plaintext or blobs.
 */
export function cryptographicFailure(message: string): KmipError {
  return new KmipError(reasons.CryptographicFailure ?? 0x0a, message);
}
