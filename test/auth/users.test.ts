// The users file of the KMIP Credential (src/auth/users.ts) and `kmipd users add`.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addUser, checkPassword, parseUsers, usersVerifier } from '../../src/auth/users.js';

const dir = mkdtempSync(join(tmpdir(), 'kmipd-users-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('users file', () => {
  it('stores scrypt hashes, never the password, in a 0600 file', () => {
    const file = join(dir, 'users');
    addUser(file, 'alice', 'correct horse');
    addUser(file, 'bob', 'battery staple');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('correct horse');
    expect(text).toMatch(/^alice:scrypt\$16384\$8\$1\$/m);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(checkPassword(parseUsers(text).get('alice')!, 'correct horse')).toBe(true);
  });

  it('replaces a user added again', () => {
    const file = join(dir, 'users-again');
    addUser(file, 'alice', 'one');
    addUser(file, 'alice', 'two');
    const users = parseUsers(readFileSync(file, 'utf8'));
    expect(users.size).toBe(1);
    expect(checkPassword(users.get('alice')!, 'two')).toBe(true);
  });

  it('verifies only the right password of a known user', () => {
    const file = join(dir, 'users-verify');
    addUser(file, 'alice', 'correct horse');
    const verify = usersVerifier(file);
    expect(verify('alice', 'correct horse')).toBe(true);
    expect(verify('alice', 'correct horse')).toBe(true);
    expect(verify('alice', 'wrong')).toBe(false);
    expect(verify('alice', undefined)).toBe(false);
    expect(verify('mallory', 'correct horse')).toBe(false);
  });

  it('refuses bad names and empty passwords', () => {
    expect(() => addUser(join(dir, 'x'), 'a:b', 'p')).toThrow(/without ":"/);
    expect(() => addUser(join(dir, 'x'), 'a', '')).toThrow(/empty/);
  });

  it('kmipd users add reads the password from an environment variable or stdin', () => {
    const file = join(dir, 'users-cli');
    const bin = join(process.cwd(), 'bin', 'kmipd.js');
    execFileSync(
      process.execPath,
      [bin, 'users', 'add', 'carol', '--users-file', file, '--password-env', 'PW'],
      {
        env: { ...process.env, PW: 'from env' },
        stdio: 'pipe',
      },
    );
    execFileSync(process.execPath, [bin, 'users', 'add', 'dave', '--users-file', file], {
      input: 'from stdin\n',
      stdio: 'pipe',
    });
    const verify = usersVerifier(file);
    expect(verify('carol', 'from env')).toBe(true);
    expect(verify('dave', 'from stdin')).toBe(true);
  });
});
