// The operation registry, keyed by the generated Operation enumeration. An operation without
// an entry is answered with Operation Not Supported by the message layer.

import { Operation } from '../ttlv/spec/generated.js';
import { activate } from './activate.js';
import { addAttribute } from './add-attribute.js';
import type { OperationHandler } from './context.js';
import { create } from './create.js';
import { createKeyPair } from './create-key-pair.js';
import { decrypt } from './decrypt.js';
import { deleteAttribute } from './delete-attribute.js';
import { destroy } from './destroy.js';
import { discoverVersions } from './discover-versions.js';
import { encrypt } from './encrypt.js';
import { get } from './get.js';
import { getAttributeList } from './get-attribute-list.js';
import { getAttributes } from './get-attributes.js';
import { hash } from './hash.js';
import { locate } from './locate.js';
import { mac } from './mac.js';
import { macVerify } from './mac-verify.js';
import { modifyAttribute } from './modify-attribute.js';
import { query } from './query.js';
import { register } from './register.js';
import { revoke } from './revoke.js';
import { rngRetrieve } from './rng-retrieve.js';
import { setAttribute } from './set-attribute.js';
import { sign } from './sign.js';
import { signatureVerify } from './signature-verify.js';

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
]);
