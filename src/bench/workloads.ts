// Workloads: what each generator connection does in a loop. A scenario is a fixed sequence
// whose complete, all-successful passes are counted as cycles; a mix is weighted random single
// operations over a shared pool of keys created for the run.

import type { KmipVersion } from '../ttlv/spec/index.js';
import { createAes256, destroyKey, getKey, locateByName, type Outcome } from './requests.js';

/** What a workload sees of its connection. */
export interface BenchClient {
  readonly version: KmipVersion;
  /** Sends one request and counts it under `operation` (while the run is measuring). */
  call(operation: string, request: Buffer): Promise<Outcome>;
  /** A name no other request of this run uses. */
  uniqueName(): string;
}

export interface Workload {
  readonly name: string;
  /** Operations reported even when none ran. */
  readonly operations: readonly string[];
  /** Whether an iteration is a cycle worth counting (scenarios) or not (a mix). */
  readonly countsCycles: boolean;
  /** What the scenario models, when not overridden on the command line. */
  readonly defaults: { newConnectionPerOp: boolean; version?: KmipVersion };
  /** Runs once before the clock starts; its requests are not counted. */
  prepare?(client: BenchClient): Promise<void>;
  /** One pass; true when every step succeeded. */
  iteration(client: BenchClient): Promise<boolean>;
}

export const SCENARIOS = ['cycle', 'barbican', 'vsphere'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const MIX_OPERATIONS = ['create', 'get', 'locate', 'destroy', 'get-missing'] as const;
export type MixOperation = (typeof MIX_OPERATIONS)[number];
export type Mix = Partial<Record<MixOperation, number>>;

/** Create AES-256 → Get → Destroy, the request bytes of Create built once. */
function createGetDestroy(name: string, defaults: Workload['defaults']): Workload {
  let create: Buffer | undefined;
  return {
    name,
    operations: ['create', 'get', 'destroy'],
    countsCycles: true,
    defaults,
    async iteration(c) {
      create ??= createAes256(c.version);
      const created = await c.call('create', create);
      if (!created.ok || created.uid === undefined) return false;
      const got = await c.call('get', getKey(c.version, created.uid));
      const destroyed = await c.call('destroy', destroyKey(c.version, created.uid));
      return got.ok && destroyed.ok;
    },
  };
}

/**
 * vSphere-style: long-lived connections, keys created with a Name, fetched, and found again by
 * Locate on that Name (how vCenter looks a key up after a restart). Keys are kept.
 */
function vsphere(): Workload {
  return {
    name: 'vsphere',
    operations: ['create', 'get', 'locate'],
    countsCycles: true,
    defaults: { newConnectionPerOp: false },
    async iteration(c) {
      const name = c.uniqueName();
      const created = await c.call('create', createAes256(c.version, name));
      if (!created.ok || created.uid === undefined) return false;
      const got = await c.call('get', getKey(c.version, created.uid));
      const found = await c.call('locate', locateByName(c.version, name));
      return got.ok && found.ok && found.located >= 1;
    },
  };
}

export function scenario(name: ScenarioName): Workload {
  switch (name) {
    case 'cycle':
      return createGetDestroy('cycle', { newConnectionPerOp: false });
    case 'barbican':
      // Barbican's KMIP secret store opens a PyKMIP client (KMIP 1.2) for every call.
      return createGetDestroy('barbican', { newConnectionPerOp: true, version: '1.2' });
    case 'vsphere':
      return vsphere();
  }
}

/** `create:1,get:4,locate:1,destroy:1` → weights. */
export function parseMix(text: string): Mix {
  const mix: Mix = {};
  for (const part of text.split(',')) {
    const m = /^\s*([a-z-]+)\s*(?::\s*(\d+(?:\.\d+)?))?\s*$/.exec(part);
    const op = m?.[1] as MixOperation | undefined;
    if (m === null || op === undefined || !MIX_OPERATIONS.includes(op)) {
      throw new Error(
        `--mix wants OP:WEIGHT,... with OP one of ${MIX_OPERATIONS.join(', ')}; got '${part}'`,
      );
    }
    mix[op] = (mix[op] ?? 0) + Number(m[2] ?? 1);
  }
  if (Object.values(mix).every((w) => w === 0)) throw new Error('--mix has no positive weight');
  return mix;
}

interface PoolKey {
  uid: string;
  name: string;
  /** Requests in flight on this key; Destroy only takes keys nobody is using. */
  users: number;
}

/**
 * Weighted random operations over a pool of named keys, seeded before the clock starts.
 * Get, Locate and Destroy pick a key from the pool (Destroy removes it); when the pool is empty
 * or every key is busy they create one instead, so the run never stalls. `get-missing` asks
 * for a UID that does not exist, to measure the error path.
 */
export function mixWorkload(mix: Mix, poolSize: number, random = Math.random): Workload {
  const entries = MIX_OPERATIONS.filter((op) => (mix[op] ?? 0) > 0).map(
    (op) => [op, mix[op]!] as const,
  );
  const total = entries.reduce((n, [, w]) => n + w, 0);
  const pool: PoolKey[] = [];
  let missing = 0;

  const pick = (): MixOperation => {
    let r = random() * total;
    for (const [op, w] of entries) {
      r -= w;
      if (r < 0) return op;
    }
    return entries[entries.length - 1]![0];
  };

  const create = async (c: BenchClient): Promise<void> => {
    const name = c.uniqueName();
    const out = await c.call('create', createAes256(c.version, name));
    if (out.ok && out.uid !== undefined) pool.push({ uid: out.uid, name, users: 0 });
  };

  const use = async (c: BenchClient, op: string, build: (k: PoolKey) => Buffer) => {
    const key = pool[Math.floor(random() * pool.length)];
    if (key === undefined) return create(c);
    key.users++;
    try {
      await c.call(op, build(key));
    } finally {
      key.users--;
    }
  };

  return {
    name: `mix(${entries.map(([op, w]) => `${op}:${w}`).join(',')})`,
    operations: entries.map(([op]) => op),
    countsCycles: false,
    defaults: { newConnectionPerOp: false },
    async prepare(c) {
      for (let i = 0; i < poolSize; i++) await create(c);
    },
    async iteration(c) {
      switch (pick()) {
        case 'create':
          await create(c);
          break;
        case 'get':
          await use(c, 'get', (k) => getKey(c.version, k.uid));
          break;
        case 'locate':
          await use(c, 'locate', (k) => locateByName(c.version, k.name));
          break;
        case 'destroy': {
          const start = Math.floor(random() * pool.length);
          let index = -1;
          for (let i = 0; i < pool.length && index < 0; i++) {
            const j = (start + i) % pool.length;
            if (pool[j]!.users === 0) index = j;
          }
          if (index < 0) {
            await create(c);
            break;
          }
          const [key] = pool.splice(index, 1);
          await c.call('destroy', destroyKey(c.version, key!.uid));
          break;
        }
        case 'get-missing':
          await c.call('get-missing', getKey(c.version, `bench-missing-${++missing}`));
          break;
      }
      return false;
    },
  };
}
