// The configuration file, KMIPD_* variables and their precedence; `kmipd config check`; and the
// option table against the real `kmipd serve --help`, so a new flag cannot be left out.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configPathFromArgv } from '../../src/cli/commands-kmipd/config.js';
import {
  ConfigError,
  formatEffective,
  parseConfigText,
  readEnv,
  redact,
  resolveConfig,
} from '../../src/config/load.js';
import { envName, SERVE_OPTIONS } from '../../src/config/options.js';
import { runKmipd } from '../helpers/kmipd-process.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmipd-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const parse = (text: string) => parseConfigText(text, 'kmipd.yaml', '/etc/kmipd');

describe('configuration file', () => {
  it('reads typed values and makes relative paths relative to the file', () => {
    expect(
      parse(
        'port: 5697\nstore: memory\nadmin: [root, ops]\ncert: tls/server.crt\nephemeral: true\n',
      ),
    ).toEqual({
      port: 5697,
      store: 'memory',
      admin: ['root', 'ops'],
      cert: '/etc/kmipd/tls/server.crt',
      ephemeral: true,
    });
    expect(parse('audit-log: off\n')).toEqual({ 'audit-log': 'off' });
    expect(parse('')).toEqual({});
    expect(parse('# only a comment\n')).toEqual({});
  });

  it.each([
    ['prot: 1\n', "kmipd.yaml:1: unknown key 'prot' (did you mean 'port'?)"],
    ['host: a\ndataDir: x\n', "kmipd.yaml:2: unknown key 'dataDir' (did you mean 'data-dir'?)"],
    ['zzz: 1\n', "kmipd.yaml:1: unknown key 'zzz'"],
    [
      'port: "5696"\n',
      `kmipd.yaml:1: 'port' must be an integer from 0 to 65535, got the string "5696"`,
    ],
    ['port: 70000\n', "'port' must be an integer from 0 to 65535, got number 70000"],
    ['store: mysql\n', "'store' must be one of sqlite, memory, postgres"],
    ['hsm-token: 1234\n', "'hsm-token' must be a string, got number 1234 (quote it)"],
    ['ephemeral: yes please\n', "'ephemeral' must be true or false"],
    ['admin: {a: 1}\n', "'admin' must be a list of strings, got a mapping"],
    ['cert:\n', "'cert' must be a file path (string), got no value"],
    ['idle-timeout: -1\n', "'idle-timeout' must be a number >= 0"],
    ['- port\n', 'the configuration must be a mapping'],
    ['port: 1\nport: 2\n', 'not valid YAML'],
    ['port: [1\n', 'kmipd.yaml:'],
  ])('rejects %j', (text, message) => {
    expect(() => parse(text)).toThrow(ConfigError);
    expect(() => parse(text)).toThrow(message);
  });
});

describe('environment', () => {
  it('reads KMIPD_* variables by option name and ignores other KMIPD_ variables', () => {
    expect(envName('data-dir')).toBe('KMIPD_DATA_DIR');
    expect(
      readEnv({
        KMIPD_PORT: '7000',
        KMIPD_ADMIN: 'root, ops',
        KMIPD_FAULT: 'op=Get,reason=ItemNotFound;op=Create,delay=5',
        KMIPD_EPHEMERAL: 'true',
        KMIPD_KEK: '00'.repeat(32),
      }),
    ).toEqual({
      port: 7000,
      admin: ['root', 'ops'],
      fault: ['op=Get,reason=ItemNotFound', 'op=Create,delay=5'],
      ephemeral: true,
    });
  });

  it('names the variable and the expected type', () => {
    expect(() => readEnv({ KMIPD_PORT: 'high' })).toThrow(
      `environment variable KMIPD_PORT: 'port' must be an integer from 0 to 65535, got the string "high"`,
    );
    expect(() => readEnv({ KMIPD_EPHEMERAL: 'maybe' })).toThrow(
      "'ephemeral' must be true or false",
    );
    expect(() => readEnv({ KMIPD_STORE: 'mysql' })).toThrow('KMIPD_STORE');
  });
});

describe('precedence: flag > environment > file > default', () => {
  it('takes each key from the highest layer that sets it', () => {
    const r = resolveConfig({
      file: { port: 1, host: '10.0.0.1', store: 'memory' },
      env: { port: 2, host: '10.0.0.2' },
      flags: { port: 3 },
    });
    expect(r.values).toMatchObject({
      port: 3,
      host: '10.0.0.2',
      store: 'memory',
      'data-dir': 'kmipd-data',
    });
    expect(r.sources).toMatchObject({
      port: 'flag',
      host: 'env',
      store: 'file',
      'data-dir': 'default',
    });
  });

  it('finds --config in the arguments', () => {
    expect(configPathFromArgv(['serve', '--config', 'a.yaml'])).toBe('a.yaml');
    expect(configPathFromArgv(['serve', '--config=b.yaml', '--port', '1'])).toBe('b.yaml');
    expect(configPathFromArgv(['serve', '--', '--config', 'c.yaml'])).toBeUndefined();
  });
});

describe('redaction', () => {
  it('hides the password of the PostgreSQL URL and nothing else', () => {
    const v = redact({ 'postgres-url': 'postgres://kmipd:hunter2@db:5432/kmipd', port: 1 });
    expect(v['postgres-url']).toBe('postgres://kmipd:REDACTED@db:5432/kmipd');
    expect(v.port).toBe(1);
    const text = formatEffective(
      resolveConfig({ file: { 'postgres-url': 'postgres://u:hunter2@db/k?password=hunter3' } }),
    );
    expect(text).not.toContain('hunter');
  });
});

describe('kmipd config check', () => {
  it('prints the effective configuration with each value’s source; the output is a valid file', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(file, 'port: 5697\npostgres-url: postgres://k:s3cr3t@db/k\nstore: postgres\n');
    const run = await runKmipd(['config', 'check', file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('port: 5697  # file');
    expect(run.stdout).toContain('host: "127.0.0.1"  # default');
    expect(run.stdout).not.toContain('s3cr3t');
    const again = join(dir, 'again.yaml');
    await writeFile(again, run.stdout);
    expect((await runKmipd(['config', 'check', again])).code).toBe(0);
  });

  it('fails with one line naming the file, line, key and type', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'host: 127.0.0.1\nmax-message-bytes: lots\n');
    const run = await runKmipd(['config', 'check', file]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      `kmipd: ${file}:2: 'max-message-bytes' must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got the string "lots"`,
    );
    const missing = await runKmipd(['config', 'check', join(dir, 'absent.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read it (ENOENT)');
  });

  it('stops kmipd serve --config with the same message', async () => {
    const file = join(dir, 'serve-bad.yaml');
    await writeFile(file, 'idle-timout: 5\n');
    const run = await runKmipd(['serve', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `${file}:1: unknown key 'idle-timout' (did you mean 'idle-timeout'?)`,
    );
  });
});

describe('the option table', () => {
  let help: string;
  beforeAll(async () => {
    help = (await runKmipd(['serve', '--help'])).stdout;
  });

  it('names every flag of kmipd serve', () => {
    const flags = new Set([...help.matchAll(/^\s+--([a-z0-9-]+)/gm)].map((m) => m[1]!));
    flags.delete('help');
    flags.delete('config');
    expect([...flags].sort()).toEqual(SERVE_OPTIONS.map((o) => o.key).sort());
  });

  it('has the defaults the command line has', () => {
    // One block of help text per flag, its wrapped lines joined.
    const blocks = new Map(
      help
        .split(/\n(?=\s+--)/)
        .map((b) => b.replace(/\s+/g, ' ').trim())
        .filter((b) => b.startsWith('--'))
        .map((b) => [b.split(' ')[0]!.slice(2), b] as const),
    );
    for (const o of SERVE_OPTIONS) {
      const shown = /\[default: (.*?)\](?= |$)/
        .exec(blocks.get(o.key) ?? '')?.[1]
        ?.replace(/\s/g, '');
      if (o.default === undefined) {
        expect(shown, o.key).toBeUndefined();
      } else {
        const expected = Array.isArray(o.default)
          ? '[]'
          : typeof o.default === 'string'
            ? `"${o.default}"`
            : String(o.default);
        expect(shown, o.key).toBe(expected);
      }
    }
  });
});
