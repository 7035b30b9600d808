// The operation registry, keyed by the generated Operation enumeration. An operation without
// an entry is answered with Operation Not Supported by the message layer.

import { Operation } from '../ttlv/spec/generated.js';
import { activate } from './activate.js';
import { addAttribute } from './add-attribute.js';
import { archive } from './archive.js';
import { cancel } from './cancel.js';
import { certify } from './certify.js';
import { check } from './check.js';
import type { OperationHandler } from './context.js';
import { create } from './create.js';
import { createKeyPair } from './create-key-pair.js';
import { createSplitKey } from './create-split-key.js';
import { decrypt } from './decrypt.js';
import { delegatedLogin } from './delegated-login.js';
import { deleteAttribute } from './delete-attribute.js';
import { deriveKey } from './derive-key.js';
import { destroy } from './destroy.js';
import { discoverVersions } from './discover-versions.js';
import { encrypt } from './encrypt.js';
import { exportObject } from './export.js';
import { get } from './get.js';
import { getAttributeList } from './get-attribute-list.js';
import { getAttributes } from './get-attributes.js';
import { getConstraints } from './get-constraints.js';
import { getUsageAllocation } from './get-usage-allocation.js';
import { hash } from './hash.js';
import { importObject } from './import.js';
import { interop } from './interop.js';
import { joinSplitKey } from './join-split-key.js';
import { locate } from './locate.js';
import { log } from './log.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { mac } from './mac.js';
import { macVerify } from './mac-verify.js';
import { modifyAttribute } from './modify-attribute.js';
import { obtainLease } from './obtain-lease.js';
import { ping } from './ping.js';
import { poll } from './poll.js';
import { query } from './query.js';
import { reCertify } from './recertify.js';
import { recover } from './recover.js';
import { register } from './register.js';
import { reKey } from './rekey.js';
import { reKeyKeyPair } from './rekey-key-pair.js';
import { revoke } from './revoke.js';
import { rngRetrieve } from './rng-retrieve.js';
import { rngSeed } from './rng-seed.js';
import { setAttribute } from './set-attribute.js';
import { setConstraints } from './set-constraints.js';
import { sign } from './sign.js';
import { signatureVerify } from './signature-verify.js';
import { validate } from './validate.js';

// biome-ignore lint/suspicious/noExplicitAny: each handler links its own request and response types
type AnyHandler = OperationHandler<any, any>;

export const OPERATIONS: ReadonlyMap<number, AnyHandler> = new Map<number, AnyHandler>([
  [Operation.Activate, activate],
  [Operation.AddAttribute, addAttribute],
  [Operation.Create, create],
  [Operation.CreateKeyPair, createKeyPair],
  [Operation.DeleteAttribute, deleteAttribute],
  [Operation.Destroy, destroy],
  [Operation.DiscoverVersions, discoverVersions],
  [Operation.Get, get],
  [Operation.GetAttributeList, getAttributeList],
  [Operation.GetAttributes, getAttributes],
  [Operation.Locate, locate],
  [Operation.ModifyAttribute, modifyAttribute],
  [Operation.Query, query],
  [Operation.Register, register],
  [Operation.Revoke, revoke],
  [Operation.Decrypt, decrypt],
  [Operation.Encrypt, encrypt],
  [Operation.Hash, hash],
  [Operation.MAC, mac],
  [Operation.MACVerify, macVerify],
  [Operation.RNGRetrieve, rngRetrieve],
  [Operation.Sign, sign],
  [Operation.SignatureVerify, signatureVerify],
  [Operation.SetAttribute, setAttribute],
  [Operation.Archive, archive],
  [Operation.Cancel, cancel],
  [Operation.Check, check],
  [Operation.CreateSplitKey, createSplitKey],
  [Operation.GetUsageAllocation, getUsageAllocation],
  [Operation.JoinSplitKey, joinSplitKey],
  [Operation.ObtainLease, obtainLease],
  [Operation.Ping, ping],
  [Operation.Poll, poll],
  [Operation.ReKey, reKey],
  [Operation.ReKeyKeyPair, reKeyKeyPair],
  [Operation.Recover, recover],
  [Operation.RNGSeed, rngSeed],
  [Operation.Interop, interop],
  [Operation.Log, log],
  [Operation.DeriveKey, deriveKey],
  [Operation.Login, login],
  [Operation.Logout, logout],
  [Operation.DelegatedLogin, delegatedLogin],
  [Operation.Certify, certify],
  [Operation.ReCertify, reCertify],
  [Operation.Validate, validate],
  [Operation.Import, importObject],
  [Operation.Export, exportObject],
  [Operation.SetConstraints, setConstraints],
  [Operation.GetConstraints, getConstraints],
]);
