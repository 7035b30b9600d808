// `kmipd serve --push-to SPEC` (repeatable; the `push-to` list of the configuration file):
//
//   HOST:PORT,owners=NAME[+NAME...]|*[,ca=FILE][,version=1.0..1.4][,servername=NAME]
//
// owners is required, so that an administrator states which objects (with their key material)
// leave the server: those whose owner is listed, or every object with `*`. ca defaults to the
// CA kmipd verifies its clients with; version defaults to 1.4 (KMIP 2.x keeps Put and Notify,
// but kmipd sends their 1.x form only).

import { type KmipVersion, versionFrom } from '../ttlv/spec/index.js';

export interface PushTarget {
  host: string;
  port: number;
  owners: '*' | string[];
  /** PEM file of the CA that signed the subscriber's server certificate. */
  ca?: string;
  version: KmipVersion;
  servername?: string;
}

export const DEFAULT_PUSH_VERSION: KmipVersion = '1.4';

const KEYS = new Set(['owners', 'ca', 'version', 'servername']);

export function parsePushTarget(spec: string): PushTarget {
  const bad = (why: string) => new Error(`--push-to '${spec}': ${why}`);
  const [address = '', ...rest] = spec.split(',');
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address.trim());
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || port < 1 || port > 65535) throw bad('starts with HOST:PORT');
  const fields = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    if (eq < 0 || !KEYS.has(key)) throw bad(`unknown part '${part}'`);
    if (fields.has(key)) throw bad(`${key} given twice`);
    fields.set(key, part.slice(eq + 1).trim());
  }
  const ownersText = fields.get('owners');
  if (ownersText === undefined || ownersText === '') {
    throw bad('needs owners=NAME[+NAME...] (the owners whose objects it receives) or owners=*');
  }
  const owners = ownersText === '*' ? '*' : ownersText.split('+').map((o) => o.trim());
  if (owners !== '*' && owners.some((o) => o === '' || o === '*')) throw bad('bad owners list');
  const versionText = fields.get('version') ?? DEFAULT_PUSH_VERSION;
  const vm = /^(\d)\.(\d)$/.exec(versionText);
  const version = vm === null ? undefined : versionFrom(Number(vm[1]), Number(vm[2]));
  if (version === undefined || !version.startsWith('1.')) {
    throw bad('version must be 1.0, 1.1, 1.2, 1.3 or 1.4');
  }
  const target: PushTarget = { host: (m[1] ?? m[2])!, port, owners, version };
  const ca = fields.get('ca');
  if (ca !== undefined) target.ca = ca;
  const servername = fields.get('servername');
  if (servername !== undefined) target.servername = servername;
  return target;
}
