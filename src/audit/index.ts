// The tamper-evident audit log: format (record.ts), writer (file-log.ts), checkpoint key
// (signing-key.ts) and checker (verify.ts).

import type { Logger } from 'pino';
import { AuditFileLog } from './file-log.js';
import { ensureAuditSigningKey } from './signing-key.js';

export { AuditFileLog, DEFAULT_CHECKPOINT_EVERY } from './file-log.js';
export type { AuditEvent, AuditSink } from './record.js';
export { ensureAuditSigningKey, publicKeyPathFor } from './signing-key.js';
export { verifyAuditFile, verifyAuditLog } from './verify.js';

export interface AuditConfig {
  /** The audit file, appended to. */
  path: string;
  /** Ed25519 private key (PEM) for checkpoints; created with mode 0600 when missing. */
  keyFile: string;
  checkpointEvery?: number;
}

/** Opens the audit file with its signing key (made on first use). */
export async function openAuditLog(config: AuditConfig, log: Logger): Promise<AuditFileLog> {
  const key = await ensureAuditSigningKey(config.keyFile, log);
  const sink = AuditFileLog.open({
    path: config.path,
    signingKey: key.privateKey,
    checkpointEvery: config.checkpointEvery,
    log,
  });
  log.info({ path: config.path, publicKey: key.publicKeyPath }, 'audit log');
  return sink;
}
