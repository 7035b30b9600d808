// Every option of `kmipd serve`, once: its flag (also its key in the configuration file), its
// KMIPD_* environment variable, its type and its default. The configuration file, the
// environment and `kmipd config check` read this table; test/config checks that it names every
// flag `kmipd serve --help` shows and that the defaults agree with the command line's.

import { DEFAULT_MAX_LOCATE_ITEMS } from '../operations/context.js';
import { MAX_WORKERS } from '../server/cluster.js';
import { DEFAULT_CONNECTION_LIMITS } from '../server/connection.js';

export type OptionType =
  | { kind: 'string' }
  /** `words` are kept as they are instead of being resolved as paths (audit-log: off). */
  | { kind: 'path'; words?: readonly string[] }
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'number'; min: number }
  | { kind: 'boolean' }
  | { kind: 'choice'; choices: readonly string[] }
  /** `paths`: each entry is a file path, made absolute like a `path`. */
  | { kind: 'list'; separator: string; paths?: boolean };

export interface ServeOption {
  /** The flag without dashes; also the key in the configuration file. */
  readonly key: string;
  readonly type: OptionType;
  readonly default?: unknown;
  /** Redacted by `kmipd config check` (a PostgreSQL URL may carry a password). */
  readonly secret?: boolean;
}

const string = { kind: 'string' } as const;
const path = { kind: 'path' } as const;
const boolean = { kind: 'boolean' } as const;
const port = { kind: 'integer', min: 0, max: 65535 } as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** Port of the admin HTTP server when none is given: off. */
export const DEFAULT_ADMIN_HOST = '127.0.0.1';

export const SERVE_OPTIONS: readonly ServeOption[] = [
  { key: 'host', type: string, default: '127.0.0.1' },
  { key: 'port', type: port, default: 5696 },
  { key: 'https-port', type: port },
  { key: 'https-host', type: string },
  { key: 'data-dir', type: path, default: 'kmipd-data' },
  {
    key: 'store',
    type: { kind: 'choice', choices: ['sqlite', 'memory', 'postgres'] },
    default: 'sqlite',
  },
  { key: 'postgres-url', type: string, secret: true },
  { key: 'cert', type: path },
  { key: 'key', type: path },
  { key: 'ca', type: path },
  { key: 'client-cert', type: { kind: 'list', separator: ',', paths: true }, default: [] },
  { key: 'admin', type: { kind: 'list', separator: ',' }, default: [] },
  { key: 'identity-map', type: path },
  { key: 'users-file', type: path },
  {
    key: 'idle-timeout',
    type: { kind: 'number', min: 0 },
    default: DEFAULT_CONNECTION_LIMITS.idleTimeoutMs / 1000,
  },
  {
    key: 'max-message-bytes',
    type: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
    default: DEFAULT_CONNECTION_LIMITS.maxMessageBytes,
  },
  {
    key: 'max-connections',
    type: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
    default: DEFAULT_CONNECTION_LIMITS.maxConnections,
  },
  {
    key: 'max-connections-per-identity',
    type: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
    default: DEFAULT_CONNECTION_LIMITS.maxConnectionsPerIdentity,
  },
  {
    key: 'handshake-timeout',
    type: { kind: 'number', min: 0 },
    default: DEFAULT_CONNECTION_LIMITS.handshakeTimeoutMs / 1000,
  },
  {
    key: 'max-locate-items',
    type: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
    default: DEFAULT_MAX_LOCATE_ITEMS,
  },
  { key: 'workers', type: { kind: 'integer', min: 1, max: MAX_WORKERS }, default: 1 },
  { key: 'log-level', type: { kind: 'choice', choices: LOG_LEVELS }, default: 'info' },
  {
    key: 'tls-min-version',
    type: { kind: 'choice', choices: ['TLSv1.2', 'TLSv1.3'] },
    default: 'TLSv1.2',
  },
  { key: 'tls-ciphers', type: string },
  { key: 'audit-log', type: { kind: 'path', words: ['off'] } },
  { key: 'audit-key-file', type: path },
  {
    key: 'audit-checkpoint-every',
    type: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
    default: 1000,
  },
  { key: 'kek-file', type: path },
  { key: 'kek-env', type: string },
  { key: 'kek-passphrase-env', type: string },
  { key: 'hsm-module', type: path },
  { key: 'hsm-token', type: string },
  { key: 'hsm-slot', type: { kind: 'integer', min: 0, max: 0xffffffff } },
  { key: 'hsm-pin-file', type: path },
  { key: 'hsm-pin-env', type: string },
  { key: 'hsm-kek-label', type: string },
  { key: 'ephemeral', type: boolean, default: false },
  { key: 'sqlite-writer-thread', type: boolean, default: true },
  { key: 'pki-out', type: path },
  { key: 'deterministic-ids', type: string },
  // Fault specifications hold commas, so the environment separates them with ';'.
  { key: 'fault', type: { kind: 'list', separator: ';' }, default: [] },
  // A subscriber specification holds commas, so the environment separates them with ';'.
  { key: 'push-to', type: { kind: 'list', separator: ';' }, default: [] },
  { key: 'push-cert', type: path },
  { key: 'push-key', type: path },
  { key: 'admin-port', type: port },
  { key: 'admin-host', type: string, default: DEFAULT_ADMIN_HOST },
];

export const SERVE_OPTION_BY_KEY: ReadonlyMap<string, ServeOption> = new Map(
  SERVE_OPTIONS.map((o) => [o.key, o]),
);

/** KMIPD_ and the key in upper case with '_' for '-': data-dir → KMIPD_DATA_DIR. */
export function envName(key: string): string {
  return `KMIPD_${key.toUpperCase().replaceAll('-', '_')}`;
}

/** The expected type in words, for error messages. */
export function describeType(t: OptionType): string {
  switch (t.kind) {
    case 'string':
      return 'a string';
    case 'path':
      return 'a file path (string)';
    case 'integer':
      return `an integer from ${t.min} to ${t.max}`;
    case 'number':
      return `a number >= ${t.min}`;
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `one of ${t.choices.join(', ')}`;
    case 'list':
      return t.paths ? 'a list of file paths' : 'a list of strings';
  }
}
