// The users file for the KMIP Credential (Username and Password, KMIP 2.1 §2.1.2): one line
// per user, `NAME:scrypt$N$r$p$SALT$HASH` (salt and hash in base64). `kmipd users add NAME`
// writes a line; the server checks a request's credential against it with `--users-file`,
// and then a request without a valid credential fails with Authentication Not Successful.
// The certificate still decides the principal: the credential is a second factor.

import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

/** scrypt cost: about 50 ms per check, so a stolen file resists offline guessing. */
const N = 16384;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
/** Memory scrypt needs for N and R, with headroom (Node's default cap is 32 MiB). */
const MAXMEM = 64 * 1024 * 1024;

export interface UserRecord {
  name: string;
  hash: string;
}

function checkName(name: string): void {
  if (!/^[^\s:]+$/.test(name))
    throw new Error('user name must be non-empty, without ":" or spaces');
}

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, KEY_BYTES, { N, r: R, p: P, maxmem: MAXMEM });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function checkPassword(stored: string, password: string): boolean {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  const got = scryptSync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAXMEM,
  });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export function parseUsers(text: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const cut = t.indexOf(':');
    if (cut <= 0) continue;
    users.set(t.slice(0, cut), t.slice(cut + 1));
  }
  return users;
}

/** Adds or replaces a user; the file is created with mode 0600. */
export function addUser(file: string, name: string, password: string): void {
  checkName(name);
  if (password.length === 0) throw new Error('the password is empty');
  let users = new Map<string, string>();
  try {
    users = parseUsers(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  users.set(name, hashPassword(password));
  const text = [...users].map(([n, h]) => `${n}:${h}\n`).join('');
  writeFileSync(file, text, { mode: 0o600 });
}

/**
 * A verifier for MessageLayerOptions.verifyCredential. Each successful check is remembered as
 * an HMAC under a per-process key, so a client sending the same credential with every request
 * pays the scrypt cost once; the password itself is never kept.
 */
export function usersVerifier(
  file: string,
): (username: string, password: string | undefined) => boolean {
  const users = parseUsers(readFileSync(file, 'utf8'));
  const cacheKey = randomBytes(32);
  const verified = new Set<string>();
  return (username, password) => {
    if (password === undefined) return false;
    const stored = users.get(username);
    if (stored === undefined) return false;
    const tag = createHmac('sha256', cacheKey)
      .update(`${username}\u0000${password}`)
      .digest('base64');
    if (verified.has(tag)) return true;
    const ok = checkPassword(stored, password);
    if (ok && verified.size < 10_000) verified.add(tag);
    return ok;
  };
}
