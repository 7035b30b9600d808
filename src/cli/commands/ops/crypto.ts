// `kmip encrypt|decrypt|sign|verify|mac`: the cryptographic service operations with a key
// held by the server (KMIP 2.1 §6.1.18, §6.1.15, §6.1.51, §6.1.52, §6.1.32, §6.1.33). Input
// comes from --in FILE, --data TEXT (or --hex for ciphertext) or stdin; binary output goes to
// --out FILE, otherwise it is printed in hex.

import { readFile, writeFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import type { CryptoParamsInput } from '../../../client/crypto-operations.js';
import {
  type CommonArgs,
  connectionOptions,
  EXIT_INVALID,
  hexArg,
  printFields,
  printJson,
  readStdin,
  withClient,
} from './common.js';

interface InputArgs extends CommonArgs {
  uid: string;
  in: string | undefined;
  data: string | undefined;
  hex: string | undefined;
  out: string | undefined;
}

function inputOptions<T>(y: Argv<T>) {
  return connectionOptions(y)
    .positional('uid', {
      type: 'string',
      demandOption: true,
      describe: 'Unique Identifier of the key',
    })
    .option('in', { type: 'string', describe: 'read the data from this file (default stdin)' })
    .option('data', { type: 'string', describe: 'the data as UTF-8 text' })
    .option('hex', { type: 'string', describe: 'the data in hex' })
    .option('out', { type: 'string', describe: 'write the binary result to this file' })
    .conflicts('in', ['data', 'hex'])
    .conflicts('data', 'hex');
}

async function inputData(a: InputArgs): Promise<Buffer> {
  if (a.data !== undefined) return Buffer.from(a.data, 'utf8');
  if (a.hex !== undefined) return hexArg(a.hex, '--hex');
  if (a.in !== undefined) return readFile(a.in);
  return readStdin();
}

interface CipherArgs extends InputArgs {
  mode: string | undefined;
  padding: string | undefined;
  iv: string | undefined;
  aad: string | undefined;
  tag?: string;
  'tag-length': number | undefined;
}

function cipherOptions<T>(y: Argv<T>) {
  return inputOptions(y)
    .option('mode', { type: 'string', describe: 'Block Cipher Mode: GCM, CBC, CTR, ECB, …' })
    .option('padding', { type: 'string', describe: 'Padding Method: PKCS5, None, OAEP, …' })
    .option('iv', { type: 'string', describe: 'IV, counter or nonce in hex' })
    .option('aad', { type: 'string', describe: 'GCM additional authenticated data in hex' })
    .option('tag-length', { type: 'number', describe: 'GCM tag length in bytes (default 16)' });
}

function cipherParams(a: CipherArgs): CryptoParamsInput | undefined {
  const p: CryptoParamsInput = {
    blockCipherMode: a.mode,
    paddingMethod: a.padding,
    tagLength: a['tag-length'] ?? (a.mode?.toUpperCase() === 'GCM' ? 16 : undefined),
  };
  return Object.values(p).some((v) => v !== undefined) ? p : undefined;
}

const optHex = (s: string | undefined, what: string) =>
  s === undefined ? undefined : hexArg(s, what);

async function emit(a: InputArgs, bytes: Buffer, fields: Record<string, unknown>, key: string) {
  if (a.out !== undefined) await writeFile(a.out, bytes, { mode: 0o600 });
  if (a.json) printJson({ ...fields, [key]: a.out === undefined ? bytes : undefined });
  else
    printFields({
      ...fields,
      [key]: a.out === undefined ? bytes : `${bytes.length} bytes written to ${a.out}`,
    });
}

const encrypt: CommandModule<object, CipherArgs> = {
  command: 'encrypt <uid>',
  describe: 'Encrypt data with a key on the server (KMIP Encrypt)',
  builder: (y: Argv) =>
    cipherOptions(y).example('$0 encrypt 6f1c… --mode GCM --data "attack at dawn"', ''),
  handler: withClient<CipherArgs>(async (client, a) => {
    const r = await client.encrypt(a.uid, await inputData(a), {
      cryptographicParameters: cipherParams(a),
      ivCounterNonce: optHex(a.iv, '--iv'),
      aad: optHex(a.aad, '--aad'),
    });
    await emit(a, r.data, { uid: r.uid, iv: r.ivCounterNonce, tag: r.tag }, 'data');
  }),
};

const decrypt: CommandModule<object, CipherArgs> = {
  command: 'decrypt <uid>',
  describe: 'Decrypt data with a key on the server (KMIP Decrypt)',
  builder: (y: Argv) =>
    cipherOptions(y)
      .option('tag', { type: 'string', describe: 'GCM authentication tag in hex' })
      .example('$0 decrypt 6f1c… --mode GCM --hex 9a… --iv 01… --tag 5e…', ''),
  handler: withClient<CipherArgs>(async (client, a) => {
    const r = await client.decrypt(a.uid, await inputData(a), {
      cryptographicParameters: cipherParams(a),
      ivCounterNonce: optHex(a.iv, '--iv'),
      aad: optHex(a.aad, '--aad'),
      tag: optHex(a.tag, '--tag'),
    });
    if (a.out === undefined && !a.json) process.stdout.write(r.data);
    else await emit(a, r.data, { uid: r.uid }, 'data');
  }),
};

interface SignArgs extends InputArgs {
  algorithm: string | undefined;
  padding: string | undefined;
  hash: string | undefined;
  signature?: string;
  'signature-file'?: string;
}

function signOptions<T>(y: Argv<T>) {
  return inputOptions(y)
    .option('algorithm', {
      type: 'string',
      describe: 'Digital Signature Algorithm: SHA256WithRSAEncryption, ECDSAWithSHA256, …',
    })
    .option('padding', { type: 'string', describe: 'Padding Method for RSA: PKCS1v1_5 or PSS' })
    .option('hash', { type: 'string', describe: 'Hashing Algorithm: SHA_256, …' });
}

function signParams(a: SignArgs): CryptoParamsInput | undefined {
  const p: CryptoParamsInput = {
    digitalSignatureAlgorithm: a.algorithm,
    paddingMethod: a.padding,
    hashingAlgorithm: a.hash,
  };
  return Object.values(p).some((v) => v !== undefined) ? p : undefined;
}

const sign: CommandModule<object, SignArgs> = {
  command: 'sign <uid>',
  describe: 'Sign data with a private key on the server (KMIP Sign)',
  builder: (y: Argv) =>
    signOptions(y).example(
      '$0 sign 6f1c… --algorithm ECDSAWithSHA256 --in doc.pdf --out doc.sig',
      '',
    ),
  handler: withClient<SignArgs>(async (client, a) => {
    const r = await client.sign(a.uid, await inputData(a), {
      cryptographicParameters: signParams(a),
    });
    await emit(a, r.signature, { uid: r.uid }, 'signature');
  }),
};

function validity(a: CommonArgs, uid: string, valid: boolean): void {
  if (a.json) printJson({ uid, valid });
  else process.stdout.write(`${valid ? 'valid' : 'invalid'}\n`);
  if (!valid) process.exitCode = EXIT_INVALID;
}

const verify: CommandModule<object, SignArgs> = {
  command: 'verify <uid>',
  describe: `Verify a signature with a key on the server (KMIP Signature Verify); exit ${EXIT_INVALID} when invalid`,
  builder: (y: Argv) =>
    signOptions(y)
      .option('signature', { type: 'string', describe: 'the signature in hex' })
      .option('signature-file', { type: 'string', describe: 'file holding the signature' })
      .check((x) => {
        if ((x.signature === undefined) === (x['signature-file'] === undefined)) {
          throw new Error('give one of --signature or --signature-file');
        }
        return true;
      })
      .example(
        '$0 verify 6f1c… --algorithm ECDSAWithSHA256 --in doc.pdf --signature-file doc.sig',
        '',
      ),
  handler: withClient<SignArgs>(async (client, a) => {
    const signature =
      a.signature !== undefined
        ? hexArg(a.signature, '--signature')
        : await readFile(a['signature-file']!);
    const r = await client.signatureVerify(a.uid, await inputData(a), signature, {
      cryptographicParameters: signParams(a),
    });
    validity(a, r.uid, r.valid);
  }),
};

interface MacArgs extends InputArgs {
  algorithm: string | undefined;
  verify: string | undefined;
}

const mac: CommandModule<object, MacArgs> = {
  command: 'mac <uid>',
  describe: `Compute a MAC with a key on the server (KMIP MAC), or check one with --verify (exit ${EXIT_INVALID} when invalid)`,
  builder: (y: Argv) =>
    inputOptions(y)
      .option('algorithm', { type: 'string', describe: 'Cryptographic Algorithm: HMAC_SHA256, …' })
      .option('verify', { type: 'string', describe: 'MAC to verify, in hex (KMIP MAC Verify)' })
      .example('$0 mac 6f1c… --algorithm HMAC_SHA256 --data hello', ''),
  handler: withClient<MacArgs>(async (client, a) => {
    const params = a.algorithm === undefined ? undefined : { cryptographicAlgorithm: a.algorithm };
    const data = await inputData(a);
    if (a.verify !== undefined) {
      const r = await client.macVerify(a.uid, data, hexArg(a.verify, '--verify'), {
        cryptographicParameters: params,
      });
      validity(a, r.uid, r.valid);
      return;
    }
    const r = await client.mac(a.uid, data, { cryptographicParameters: params });
    await emit(a, r.mac, { uid: r.uid }, 'mac');
  }),
};

export const cryptoCommands = [encrypt, decrypt, sign, verify, mac];
