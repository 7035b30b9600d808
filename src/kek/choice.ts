// The operator's choice of KEK (kmipd serve on first start, kmipd kek rotate for the new
// version), before it has a version number. A software key file the operator does not name
// is created as DATA/keks/NNNN.key; a passphrase's salt always goes to DATA/keks/NNNN.salt.

import { resolve } from 'node:path';
import { DEFAULT_SCRYPT_COST, type ScryptCost } from '../crypto/software-key-wrapper.js';
import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import { type KekSpec, versionFile } from './layout.js';

export type KekChoice =
  | { kind: 'file'; keyFile?: string }
  | { kind: 'env'; envName: string }
  | { kind: 'passphrase'; passphraseEnv: string; scrypt?: ScryptCost }
  | {
      kind: 'pkcs11';
      modulePath: string;
      tokenLabel?: string;
      slot?: number;
      pinFile?: string;
      pinEnv?: string;
      kekLabel: string;
    };

/** The default: a new random software KEK in DATA/keks/NNNN.key (mode 0600). */
export const DEFAULT_KEK_CHOICE: KekChoice = { kind: 'file' };

export function specFor(choice: KekChoice, version: number): KekSpec {
  switch (choice.kind) {
    case 'file':
      return { kind: 'file', keyFile: choice.keyFile ?? versionFile(version, 'key') };
    case 'env':
      return { kind: 'env', envName: choice.envName };
    case 'passphrase':
      return {
        kind: 'passphrase',
        passphraseEnv: choice.passphraseEnv,
        saltFile: versionFile(version, 'salt'),
        scrypt: choice.scrypt ?? DEFAULT_SCRYPT_COST,
      };
    case 'pkcs11':
      return { ...choice };
  }
}

/** The command-line options that choose a KEK, as yargs parses them. */
export interface KekArgs {
  'kek-file'?: string;
  'kek-env'?: string;
  'kek-passphrase-env'?: string;
  'hsm-module'?: string;
  'hsm-token'?: string;
  'hsm-slot'?: number;
  'hsm-pin-file'?: string;
  'hsm-pin-env'?: string;
  'hsm-kek-label'?: string;
}

function usage(message: string): KmipError {
  return new KmipError(ResultReason.GeneralFailure, message);
}

/** The choice the options make, or undefined when none is given; throws on a bad mix. */
export function kekChoiceFromArgs(a: KekArgs): KekChoice | undefined {
  const hsm = [
    a['hsm-module'],
    a['hsm-token'],
    a['hsm-slot'],
    a['hsm-pin-file'],
    a['hsm-pin-env'],
    a['hsm-kek-label'],
  ].some((v) => v !== undefined);
  const sources = [
    a['kek-file'] !== undefined && '--kek-file',
    a['kek-env'] !== undefined && '--kek-env',
    a['kek-passphrase-env'] !== undefined && '--kek-passphrase-env',
    hsm && '--hsm-*',
  ].filter((s): s is string => s !== false);
  if (sources.length > 1) throw usage(`choose one KEK source, not ${sources.join(' and ')}`);
  if (a['kek-file'] !== undefined) return { kind: 'file', keyFile: resolve(a['kek-file']) };
  if (a['kek-env'] !== undefined) return { kind: 'env', envName: a['kek-env'] };
  if (a['kek-passphrase-env'] !== undefined) {
    return { kind: 'passphrase', passphraseEnv: a['kek-passphrase-env'] };
  }
  if (!hsm) return undefined;
  if (a['hsm-module'] === undefined) throw usage('the HSM KEK needs --hsm-module');
  if ((a['hsm-token'] === undefined) === (a['hsm-slot'] === undefined)) {
    throw usage('the HSM KEK needs one of --hsm-token and --hsm-slot');
  }
  if ((a['hsm-pin-file'] === undefined) === (a['hsm-pin-env'] === undefined)) {
    throw usage('the HSM KEK needs one of --hsm-pin-file and --hsm-pin-env');
  }
  if (a['hsm-kek-label'] === undefined) throw usage('the HSM KEK needs --hsm-kek-label');
  return {
    kind: 'pkcs11',
    modulePath: resolve(a['hsm-module']),
    tokenLabel: a['hsm-token'],
    slot: a['hsm-slot'],
    pinFile: a['hsm-pin-file'] !== undefined ? resolve(a['hsm-pin-file']) : undefined,
    pinEnv: a['hsm-pin-env'],
    kekLabel: a['hsm-kek-label'],
  };
}
