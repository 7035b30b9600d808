// The effective `kmipd serve` configuration: a flag wins over its KMIPD_* environment
// variable, which wins over the configuration file, which wins over the default. The file is
// YAML, one mapping whose keys are the flag names (`data-dir: /var/lib/kmipd`); an unknown
// key, a value of the wrong type and a YAML syntax error each stop the server with one line
// naming the file, the line and the key. Relative paths in the file are relative to the file.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import {
  describeType,
  envName,
  type OptionType,
  SERVE_OPTION_BY_KEY,
  SERVE_OPTIONS,
  type ServeOption,
} from './options.js';

export type Source = 'default' | 'file' | 'env' | 'flag';

export interface ResolvedConfig {
  /** Every option with a value, by key. */
  values: Record<string, unknown>;
  sources: Record<string, Source>;
  file?: string;
}

/** A configuration that cannot be used; the message names the key and the expected type. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function got(value: unknown): string {
  if (value === null) return 'no value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

/** Checks a value from the file (already typed by YAML); throws ConfigError. */
export function checkValue(opt: ServeOption, value: unknown, where: string, baseDir?: string) {
  const t = opt.type;
  const bad = (extra = '') =>
    new ConfigError(`${where}: '${opt.key}' must be ${describeType(t)}, got ${got(value)}${extra}`);
  switch (t.kind) {
    case 'string':
    case 'path':
      if (typeof value !== 'string') {
        throw bad(typeof value === 'number' || typeof value === 'boolean' ? ' (quote it)' : '');
      }
      if (t.kind !== 'path' || baseDir === undefined || t.words?.includes(value)) return value;
      return resolve(baseDir, value);
    case 'integer':
      if (
        typeof value !== 'number' ||
        !Number.isSafeInteger(value) ||
        value < t.min ||
        value > t.max
      )
        throw bad();
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < t.min) throw bad();
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw bad();
      return value;
    case 'choice':
      if (typeof value !== 'string' || !t.choices.includes(value)) throw bad();
      return value;
    case 'list': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw bad();
      if (!t.paths || baseDir === undefined) return list;
      return list.map((v) => resolve(baseDir, v));
    }
  }
}

/** Turns an environment string into the option's type; throws ConfigError naming the variable. */
export function parseEnvValue(opt: ServeOption, text: string): unknown {
  const t: OptionType = opt.type;
  const where = `environment variable ${envName(opt.key)}`;
  const bad = () =>
    new ConfigError(`${where}: '${opt.key}' must be ${describeType(t)}, got ${got(text)}`);
  switch (t.kind) {
    case 'integer':
    case 'number': {
      const n = text.trim() === '' ? Number.NaN : Number(text);
      return checkNumber(opt, n, bad);
    }
    case 'boolean': {
      const v = text.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
      throw bad();
    }
    case 'list':
      return text
        .split(t.separator)
        .map((s) => s.trim())
        .filter((s) => s !== '');
    default:
      return checkValue(opt, text, where);
  }
}

function checkNumber(opt: ServeOption, n: number, bad: () => ConfigError): number {
  const t = opt.type;
  if (!Number.isFinite(n)) throw bad();
  if (t.kind === 'integer' && (!Number.isSafeInteger(n) || n < t.min || n > t.max)) throw bad();
  if (t.kind === 'number' && n < t.min) throw bad();
  return n;
}

/** Reads and checks a configuration file: the values it sets, typed, paths made absolute. */
export function readConfigFile(file: string): Record<string, unknown> {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`configuration file ${file}: cannot read it (${code ?? 'error'})`);
  }
  return parseConfigText(text, file, dirname(path));
}

export function parseConfigText(text: string, name: string, baseDir: string) {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0]?.line;
    const message = first.message.split('\n')[0];
    throw new ConfigError(
      `${name}${line === undefined ? '' : `:${line}`}: not valid YAML: ${message}`,
    );
  }
  const out: Record<string, unknown> = {};
  if (doc.contents === null) return out;
  if (!isMap(doc.contents)) {
    throw new ConfigError(`${name}: the configuration must be a mapping of option: value`);
  }
  for (const pair of doc.contents.items) {
    const keyNode = pair.key;
    const key = isScalar(keyNode) ? keyNode.value : keyNode;
    const start = isScalar(keyNode) ? keyNode.range?.[0] : undefined;
    const where = start === undefined ? name : `${name}:${lines.linePos(start).line}`;
    if (typeof key !== 'string') throw new ConfigError(`${where}: keys must be option names`);
    const opt = SERVE_OPTION_BY_KEY.get(key);
    if (opt === undefined) {
      const hint = suggest(key);
      throw new ConfigError(
        `${where}: unknown key '${key}'${hint === undefined ? '' : ` (did you mean '${hint}'?)`}`,
      );
    }
    const value = isScalar(pair.value) ? pair.value.value : pair.value?.toJSON();
    out[key] = checkValue(opt, value ?? null, where, baseDir);
  }
  return out;
}

/** The closest known key, for a misspelt or camelCase one. */
function suggest(key: string): string | undefined {
  const kebab = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replaceAll('_', '-');
  if (SERVE_OPTION_BY_KEY.has(kebab)) return kebab;
  let best: { key: string; d: number } | undefined;
  for (const o of SERVE_OPTIONS) {
    const d = distance(kebab, o.key);
    if (d <= 2 && (best === undefined || d < best.d)) best = { key: o.key, d };
  }
  return best?.key;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** Values set by KMIPD_* variables. Other KMIPD_ variables (a KEK, a PIN) are left alone. */
export function readEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const opt of SERVE_OPTIONS) {
    const text = env[envName(opt.key)];
    if (text !== undefined) out[opt.key] = parseEnvValue(opt, text);
  }
  return out;
}

export interface ResolveInput {
  file?: Record<string, unknown>;
  fileName?: string;
  env?: Record<string, unknown>;
  flags?: Record<string, unknown>;
}

/** Flag > environment > file > default, per key. */
export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const values: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const layers: Array<[Source, Record<string, unknown> | undefined]> = [
    ['flag', input.flags],
    ['env', input.env],
    ['file', input.file],
  ];
  for (const opt of SERVE_OPTIONS) {
    const hit = layers.find(([, layer]) => layer?.[opt.key] !== undefined);
    if (hit !== undefined) {
      values[opt.key] = hit[1]![opt.key];
      sources[opt.key] = hit[0];
    } else if (opt.default !== undefined) {
      values[opt.key] = opt.default;
      sources[opt.key] = 'default';
    }
  }
  return { values, sources, file: input.fileName };
}

/** The configuration with secrets hidden: a URL keeps everything but its password. */
export function redact(values: Record<string, unknown>): Record<string, unknown> {
  const out = { ...values };
  for (const opt of SERVE_OPTIONS) {
    const v = out[opt.key];
    if (!opt.secret || v === undefined) continue;
    out[opt.key] = redactUrl(String(v));
  }
  return out;
}

function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = 'REDACTED';
    for (const k of [...url.searchParams.keys()]) {
      if (/pass|secret|key/i.test(k)) url.searchParams.set(k, 'REDACTED');
    }
    return url.toString();
  } catch {
    return 'REDACTED';
  }
}

/** The effective configuration as YAML (valid as a configuration file), each line's source. */
export function formatEffective(resolved: ResolvedConfig): string {
  const values = redact(resolved.values);
  const lines = [
    `# effective kmipd serve configuration${resolved.file === undefined ? '' : ` from ${resolved.file}`}`,
    '# precedence: flag > KMIPD_* environment > file > default',
  ];
  for (const opt of SERVE_OPTIONS) {
    const v = values[opt.key];
    if (v === undefined) continue;
    const source = resolved.sources[opt.key];
    const from = source === 'env' ? `env ${envName(opt.key)}` : source;
    lines.push(`${opt.key}: ${JSON.stringify(v)}  # ${from}`);
  }
  return `${lines.join('\n')}\n`;
}
