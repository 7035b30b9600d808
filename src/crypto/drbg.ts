// NIST SP 800-90A Rev. 1 deterministic random bit generators: Hash_DRBG (§10.1.1, with
// Hash_df of §10.3.1) and HMAC_DRBG (§10.1.2), over node:crypto's hash and HMAC. The §9
// functions wrap both: instantiate (§9.1), reseed (§9.2), generate (§9.3.1, with additional
// input and prediction resistance) and uninstantiate (§9.4). The entropy source is
// node:crypto.randomBytes (OpenSSL's DRBG, seeded by the operating system) unless a test
// supplies its own. Limits are those of §10.1 Table 2.
//
// The working state lives in private fields (never enumerated, inspected or serialised) and
// is zeroised on uninstantiate and whenever a value is replaced. No error text carries any of
// it. JavaScript cannot promise that no copy survives in freed memory (node:crypto copies
// keys into OpenSSL), so zeroisation here is the best the runtime allows.

import { createHash, createHmac, randomBytes } from 'node:crypto';

export type DrbgHash = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

interface HashInfo {
  /** Output length in bytes (outlen). */
  outlen: number;
  /** Hash_DRBG seed length in bytes (seedlen, Table 2: 440 or 888 bits). */
  seedlen: number;
  /** Highest security strength the function supports, in bits (SP 800-57 Part 1 Table 3). */
  strength: number;
}

const HASHES: Readonly<Record<DrbgHash, HashInfo>> = {
  sha1: { outlen: 20, seedlen: 55, strength: 128 },
  sha224: { outlen: 28, seedlen: 55, strength: 192 },
  sha256: { outlen: 32, seedlen: 55, strength: 256 },
  sha384: { outlen: 48, seedlen: 111, strength: 256 },
  sha512: { outlen: 64, seedlen: 111, strength: 256 },
};

/**
 * Table 2, max_number_of_bits_per_request: 2^19 bits. Bounds the output one state update
 * covers, so a compromise of the state after a request exposes no more than this.
 */
export const MAX_BYTES_PER_REQUEST = 2 ** 16;

/**
 * Table 2, reseed_interval: at most 2^48 requests between reseeds. Past it, generate reseeds
 * from the entropy source first (§9.3.1 step 7), which bounds how much output one seed yields.
 */
export const MAX_RESEED_INTERVAL = 2 ** 48;

/**
 * Table 2: entropy input, personalization string and additional input are at most 2^35 bits.
 * Stops a caller handing the hash an unbounded input.
 */
export const MAX_INPUT_BYTES = 2 ** 32;

/** A DRBG failure. The message names the rule broken, never a state or input value. */
export class DrbgError extends Error {
  override name = 'DrbgError';
}

/** Get_entropy_input (§9.1 step 6, §9.2 step 4, §9.3.1 step 7.1): `bytes` of full entropy. */
export type EntropySource = (bytes: number) => Uint8Array;

export interface DrbgOptions {
  hash: DrbgHash;
  /** prediction_resistance_flag of §9.1: whether generate may ask for prediction resistance. */
  predictionResistance: boolean;
  /** Requests between reseeds, 1 to MAX_RESEED_INTERVAL (default). */
  reseedInterval?: number;
  entropy?: EntropySource;
}

export interface InstantiateOptions {
  /** Requested security strength in bits; default and maximum: the hash's. */
  strength?: number;
  personalization?: Uint8Array;
  /** §8.6.7; default: security_strength / 2 fresh bits from node:crypto. */
  nonce?: Uint8Array;
}

export interface GenerateOptions {
  additionalInput?: Uint8Array;
  predictionResistance?: boolean;
  /** Security strength the caller needs, in bits; default: the instantiated one. */
  strength?: number;
}

const EMPTY = new Uint8Array(0);

function checkInput(input: Uint8Array, what: string): void {
  if (input.length > MAX_INPUT_BYTES) throw new DrbgError(`${what} is longer than 2^35 bits`);
}

/** The mechanism-specific part: instantiate, reseed and generate algorithms of §10.1. */
abstract class Mechanism {
  protected counter = 0;
  constructor(protected readonly hash: DrbgHash) {}
  abstract seed(seedMaterial: Uint8Array[]): void;
  abstract reseed(entropy: Uint8Array, additionalInput: Uint8Array): void;
  /** Null when reseed_counter > reseed_interval ("reseed required"). */
  abstract generate(bytes: number, additionalInput: Uint8Array, interval: number): Buffer | null;
  abstract zeroise(): void;
}

/** §10.1.2 HMAC_DRBG: working state Key, V and reseed_counter. */
class HmacMechanism extends Mechanism {
  #key: Buffer = Buffer.alloc(0);
  #v: Buffer = Buffer.alloc(0);

  #mac(...parts: Uint8Array[]): Buffer {
    const h = createHmac(this.hash, this.#key);
    for (const p of parts) h.update(p);
    return h.digest();
  }

  #setKey(next: Buffer): void {
    this.#key.fill(0);
    this.#key = next;
  }

  #setV(next: Buffer): void {
    this.#v.fill(0);
    this.#v = next;
  }

  /** §10.1.2.2 HMAC_DRBG_Update. */
  #update(provided: Uint8Array[]): void {
    const empty = provided.every((p) => p.length === 0);
    this.#setKey(this.#mac(this.#v, Uint8Array.of(0x00), ...provided));
    this.#setV(this.#mac(this.#v));
    if (empty) return;
    this.#setKey(this.#mac(this.#v, Uint8Array.of(0x01), ...provided));
    this.#setV(this.#mac(this.#v));
  }

  /** §10.1.2.3: seed_material = entropy_input || nonce || personalization_string. */
  seed(seedMaterial: Uint8Array[]): void {
    const outlen = HASHES[this.hash].outlen;
    this.#setKey(Buffer.alloc(outlen, 0x00));
    this.#setV(Buffer.alloc(outlen, 0x01));
    this.#update(seedMaterial);
    this.counter = 1;
  }

  /** §10.1.2.4. */
  reseed(entropy: Uint8Array, additionalInput: Uint8Array): void {
    this.#update([entropy, additionalInput]);
    this.counter = 1;
  }

  /** §10.1.2.5. */
  generate(bytes: number, additionalInput: Uint8Array, interval: number): Buffer | null {
    if (this.counter > interval) return null;
    if (additionalInput.length > 0) this.#update([additionalInput]);
    const out = Buffer.alloc(bytes);
    for (let at = 0; at < bytes; at += this.#v.length) {
      this.#setV(this.#mac(this.#v));
      this.#v.copy(out, at, 0, Math.min(this.#v.length, bytes - at));
    }
    this.#update([additionalInput]);
    this.counter += 1;
    return out;
  }

  zeroise(): void {
    this.#key.fill(0);
    this.#v.fill(0);
    this.counter = 0;
  }
}

/** a := (a + b) mod 2^(8·a.length), both big-endian; b may be shorter than a. */
function addInto(a: Uint8Array, b: Uint8Array): void {
  let carry = 0;
  for (let i = 1; i <= a.length; i++) {
    const sum = (a[a.length - i] ?? 0) + (i <= b.length ? (b[b.length - i] ?? 0) : 0) + carry;
    a[a.length - i] = sum & 0xff;
    carry = sum >> 8;
  }
}

/** reseed_counter as 8 big-endian bytes (it never exceeds 2^48 + 1). */
function counterBytes(n: number): Uint8Array {
  const out = new Uint8Array(8);
  let rest = n;
  for (let i = 7; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}

/** §10.1.1 Hash_DRBG: working state V, C and reseed_counter. */
class HashMechanism extends Mechanism {
  #v: Buffer = Buffer.alloc(0);
  #c: Buffer = Buffer.alloc(0);

  #digest(...parts: Uint8Array[]): Buffer {
    const h = createHash(this.hash);
    for (const p of parts) h.update(p);
    return h.digest();
  }

  /** §10.3.1 Hash_df: `bytes` bytes derived from the input, one counter byte per block. */
  #hashDf(input: Uint8Array[], bytes: number): Buffer {
    const outlen = HASHES[this.hash].outlen;
    const bits = Buffer.alloc(4);
    bits.writeUInt32BE(bytes * 8);
    const out = Buffer.alloc(Math.ceil(bytes / outlen) * outlen);
    for (let i = 0; i * outlen < bytes; i++) {
      const block = this.#digest(Uint8Array.of(i + 1), bits, ...input);
      block.copy(out, i * outlen);
      block.fill(0);
    }
    const result = Buffer.from(out.subarray(0, bytes));
    out.fill(0);
    return result;
  }

  /** V = seed; C = Hash_df(0x00 || V, seedlen) (§10.1.1.2 steps 3-5, §10.1.1.3 steps 3-5). */
  #install(seedMaterial: Uint8Array[]): void {
    const seedlen = HASHES[this.hash].seedlen;
    const v = this.#hashDf(seedMaterial, seedlen);
    this.#v.fill(0);
    this.#v = v;
    const c = this.#hashDf([Uint8Array.of(0x00), this.#v], seedlen);
    this.#c.fill(0);
    this.#c = c;
    this.counter = 1;
  }

  /** §10.1.1.2: seed_material = entropy_input || nonce || personalization_string. */
  seed(seedMaterial: Uint8Array[]): void {
    this.#install(seedMaterial);
  }

  /** §10.1.1.3: seed_material = 0x01 || V || entropy_input || additional_input. */
  reseed(entropy: Uint8Array, additionalInput: Uint8Array): void {
    const v = Buffer.from(this.#v);
    this.#install([Uint8Array.of(0x01), v, entropy, additionalInput]);
    v.fill(0);
  }

  /** §10.1.1.4, with Hashgen of §10.1.1.4 steps 3.1-3.4. */
  generate(bytes: number, additionalInput: Uint8Array, interval: number): Buffer | null {
    if (this.counter > interval) return null;
    if (additionalInput.length > 0) {
      const w = this.#digest(Uint8Array.of(0x02), this.#v, additionalInput);
      addInto(this.#v, w);
      w.fill(0);
    }
    const outlen = HASHES[this.hash].outlen;
    const out = Buffer.alloc(bytes);
    const data = Buffer.from(this.#v);
    for (let at = 0; at < bytes; at += outlen) {
      const w = this.#digest(data);
      w.copy(out, at, 0, Math.min(outlen, bytes - at));
      w.fill(0);
      addInto(data, Uint8Array.of(1));
    }
    data.fill(0);
    const h = this.#digest(Uint8Array.of(0x03), this.#v);
    addInto(this.#v, h);
    addInto(this.#v, this.#c);
    addInto(this.#v, counterBytes(this.counter));
    h.fill(0);
    this.counter += 1;
    return out;
  }

  zeroise(): void {
    this.#v.fill(0);
    this.#c.fill(0);
    this.counter = 0;
  }
}

/** The §9 functions around one mechanism instance. */
export class Drbg {
  readonly hash: DrbgHash;
  readonly predictionResistance: boolean;
  readonly reseedInterval: number;
  #mechanism: Mechanism;
  #entropy: EntropySource;
  #strength = 0;

  protected constructor(mechanism: Mechanism, options: DrbgOptions) {
    if (!(options.hash in HASHES)) throw new DrbgError('unsupported hash function');
    const interval = options.reseedInterval ?? MAX_RESEED_INTERVAL;
    if (!Number.isSafeInteger(interval) || interval < 1 || interval > MAX_RESEED_INTERVAL) {
      throw new DrbgError('reseed interval must be 1 to 2^48');
    }
    this.hash = options.hash;
    this.predictionResistance = options.predictionResistance;
    this.reseedInterval = interval;
    this.#mechanism = mechanism;
    this.#entropy = options.entropy ?? randomBytes;
  }

  /** Instantiated security strength in bits; 0 before instantiate and after uninstantiate. */
  get strength(): number {
    return this.#strength;
  }

  #entropyInput(): Uint8Array {
    const bytes = this.#strength / 8;
    const input = this.#entropy(bytes);
    if (input.length < bytes) throw new DrbgError('the entropy source returned too little');
    checkInput(input, 'entropy input');
    return input;
  }

  /** §9.1 Instantiate_function. */
  instantiate(options: InstantiateOptions = {}): this {
    if (this.#strength !== 0) throw new DrbgError('already instantiated');
    const max = HASHES[this.hash].strength;
    const requested = options.strength ?? max;
    if (requested > max) throw new DrbgError('requested security strength is not supported');
    const personalization = options.personalization ?? EMPTY;
    checkInput(personalization, 'personalization string');
    // §8.4: instantiate at one of 112, 128, 192 or 256 bits, the lowest at least requested.
    this.#strength = [112, 128, 192, 256].find((s) => s >= requested && s <= max) ?? max;
    const entropy = this.#entropyInput();
    const nonce = options.nonce ?? randomBytes(this.#strength / 16);
    this.#mechanism.seed([entropy, nonce, personalization]);
    entropy.fill(0);
    return this;
  }

  /** §9.2 Reseed_function. */
  reseed(additionalInput: Uint8Array = EMPTY): void {
    if (this.#strength === 0) throw new DrbgError('not instantiated');
    checkInput(additionalInput, 'additional input');
    const entropy = this.#entropyInput();
    this.#mechanism.reseed(entropy, additionalInput);
    entropy.fill(0);
  }

  /** §9.3.1 Generate_function: `bytes` pseudorandom bytes. */
  generate(bytes: number, options: GenerateOptions = {}): Buffer {
    if (this.#strength === 0) throw new DrbgError('not instantiated');
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_BYTES_PER_REQUEST) {
      throw new DrbgError(`a request is 0 to ${MAX_BYTES_PER_REQUEST} bytes`);
    }
    if ((options.strength ?? this.#strength) > this.#strength) {
      throw new DrbgError('requested security strength exceeds the instantiated one');
    }
    let additionalInput = options.additionalInput ?? EMPTY;
    checkInput(additionalInput, 'additional input');
    const pr = options.predictionResistance ?? false;
    if (pr && !this.predictionResistance) {
      throw new DrbgError('prediction resistance was not instantiated');
    }
    let reseedRequired = false;
    for (;;) {
      if (pr || reseedRequired) {
        this.reseed(additionalInput);
        additionalInput = EMPTY;
        reseedRequired = false;
      }
      const out = this.#mechanism.generate(bytes, additionalInput, this.reseedInterval);
      if (out !== null) return out;
      reseedRequired = true;
    }
  }

  /** §9.4 Uninstantiate_function: the working state is zeroised and the instance unusable. */
  uninstantiate(): void {
    this.#mechanism.zeroise();
    this.#strength = 0;
  }
}

export class HmacDrbg extends Drbg {
  constructor(options: DrbgOptions) {
    super(new HmacMechanism(options.hash), options);
  }
}

export class HashDrbg extends Drbg {
  constructor(options: DrbgOptions) {
    super(new HashMechanism(options.hash), options);
  }
}

/** Security strength a hash function supports in a DRBG, in bits. */
export function hashStrength(hash: DrbgHash): number {
  return HASHES[hash].strength;
}
