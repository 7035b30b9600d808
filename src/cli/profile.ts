// Connection settings for the `kmip` client commands. Each setting comes from, in order: the
// command-line flag, the environment (KMIP_SERVER, KMIP_CERT, KMIP_KEY, KMIP_CA,
// KMIP_SERVERNAME, KMIP_VERSION), or a profile: `--profile NAME` (or KMIP_PROFILE) in the
// profiles file, KMIP_PROFILES or ~/.config/kmip/profiles.json. Without a named profile, the
// file's "default" profile is used when it has one.
//
// profiles.json: { "prod": { "server": "kms.example:5696", "cert": "client.crt",
//                             "key": "client.key", "ca": "ca.crt", "version": "1.4" } }
// Relative paths in a profile are relative to the profiles file.

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { KMIP_VERSIONS, type KmipVersion } from '../ttlv/spec/index.js';

export interface Profile {
  server?: string;
  cert?: string;
  key?: string;
  ca?: string;
  servername?: string;
  version?: string;
}

export interface ConnectionFlags {
  server?: string;
  cert?: string;
  key?: string;
  ca?: string;
  servername?: string;
  profile?: string;
  'kmip-version'?: string;
}

export interface ConnectionSettings {
  host: string;
  port: number;
  /** Paths of the PEM files. */
  cert: string;
  key: string;
  ca: string;
  servername?: string;
  version: KmipVersion | 'auto';
}

export function profilesPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.KMIP_PROFILES ?? join(homedir(), '.config', 'kmip', 'profiles.json');
}

/** Default port of KMIP over TLS (IANA, KMIP Profiles §3.1.1). */
const KMIP_PORT = 5696;

export function parseServer(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[3] === undefined ? KMIP_PORT : Number(m[3]);
  if (m === null || port < 1 || port > 65535) {
    throw new Error(`the server must be HOST:PORT, got '${text}'`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

async function loadProfile(
  name: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<Profile | undefined> {
  const path = profilesPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && name === undefined) return undefined;
    throw new Error(`cannot read the profiles file ${path}: ${(err as Error).message}`);
  }
  let all: Record<string, Profile>;
  try {
    all = JSON.parse(text) as Record<string, Profile>;
  } catch (err) {
    throw new Error(`the profiles file ${path} is not JSON: ${(err as Error).message}`);
  }
  const profile = all[name ?? 'default'];
  if (profile === undefined) {
    if (name === undefined) return undefined;
    throw new Error(`no profile '${name}' in ${path}`);
  }
  const base = dirname(resolve(path));
  const rel = (p: string | undefined) =>
    p === undefined || isAbsolute(p) ? p : resolve(base, p.replace(/^~(?=\/)/, homedir()));
  return { ...profile, cert: rel(profile.cert), key: rel(profile.key), ca: rel(profile.ca) };
}

export async function connectionSettings(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConnectionSettings> {
  const profile = (await loadProfile(flags.profile ?? env.KMIP_PROFILE, env)) ?? {};
  const pick = (flag: string | undefined, envName: string, fromProfile: string | undefined) =>
    flag ?? env[envName] ?? fromProfile;
  const server = pick(flags.server, 'KMIP_SERVER', profile.server);
  const cert = pick(flags.cert, 'KMIP_CERT', profile.cert);
  const key = pick(flags.key, 'KMIP_KEY', profile.key);
  const ca = pick(flags.ca, 'KMIP_CA', profile.ca);
  const missing = [
    server === undefined ? '--server (KMIP_SERVER)' : '',
    cert === undefined ? '--cert (KMIP_CERT)' : '',
    key === undefined ? '--key (KMIP_KEY)' : '',
    ca === undefined ? '--ca (KMIP_CA)' : '',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(`no ${missing.join(', ')}: give the flags, the variables or a --profile`);
  }
  const version = pick(flags['kmip-version'], 'KMIP_VERSION', profile.version) ?? 'auto';
  if (version !== 'auto' && !(KMIP_VERSIONS as readonly string[]).includes(version)) {
    throw new Error(`unknown KMIP version '${version}' (${KMIP_VERSIONS.join(', ')} or auto)`);
  }
  return {
    ...parseServer(server!),
    cert: cert!,
    key: key!,
    ca: ca!,
    servername: pick(flags.servername, 'KMIP_SERVERNAME', profile.servername),
    version: version as KmipVersion | 'auto',
  };
}
