// The Ed25519 key that signs audit checkpoints. Created on first start with mode 0600 (O_EXCL,
// so an existing path is never overwritten); its public half is written beside it as PEM so
// `kmip audit verify` can check signatures. Keep a copy of the public key away from the
// server: someone who can rewrite the log directory can replace the copy beside it.

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { constants, existsSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Logger } from 'pino';

export interface AuditSigningKey {
  privateKey: KeyObject;
  publicKeyPath: string;
  created: boolean;
}

/** KEY.pub for KEY.key, else KEY.pub appended. */
export function publicKeyPathFor(keyPath: string): string {
  return keyPath.endsWith('.key') ? `${keyPath.slice(0, -4)}.pub` : `${keyPath}.pub`;
}

export async function ensureAuditSigningKey(path: string, log: Logger): Promise<AuditSigningKey> {
  const publicKeyPath = publicKeyPathFor(path);
  let privateKey: KeyObject;
  let created = false;
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o077;
    if (mode !== 0) log.warn({ path }, 'the audit signing key file is readable by other users');
    try {
      privateKey = createPrivateKey(await readFile(path));
    } catch {
      // The parser's message could quote the file; say only what is wrong.
      throw new Error(`${path} is not a PEM private key`);
    }
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new Error(`${path} is not an Ed25519 key`);
    }
  } else {
    privateKey = generateKeyPairSync('ed25519').privateKey;
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await writeNew(path, pem, 0o600);
    created = true;
    log.info({ path }, 'created the audit signing key');
  }
  if (!existsSync(publicKeyPath)) {
    const pub = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string;
    await writeNew(publicKeyPath, pub, 0o644);
  }
  return { privateKey, publicKeyPath, created };
}

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
