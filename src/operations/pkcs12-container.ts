// Get (and Export) with Key Format Type PKCS#12 (KMIP 2.1 §6.1.23, KMIP 1.4 §4.11): "a PKCS#12
// container as specified by [RFC7292]" holding the private key and its current certificate
// chain, protected with the password of the key's PKCS#12 Password Link (src/crypto/pkcs12.ts
// writes it; src/objects/pkcs12-password.ts checks the link).
//
// The base certificate is the one the key's PKCS#12 Certificate Link names, as the test cases
// link it (TC-PKCS12-1), else the one named by the PKCS#12 Certificate Link of the public key
// its Public Key Link names, the route the specification gives. Each certificate's issuer is
// the one its Certificate Link (or PKCS#12 Certificate Link) names. Two different candidates
// at any step make two chains, which the specification calls an error.
//
// The Key Block carries no Cryptographic Algorithm or Length (the container holds them). Its
// Key Value takes each version's form: for KMIP 1.x the container is the Key Value Byte String,
// the form KMIP 1.4 §2.1.3 gives a wrapped Key Value and the one its test cases send and expect
// (TC-PKCS12-1-14, TC-PKCS12-2-14); from KMIP 2.0 it is the Key Material of a Key Value
// structure, as the 2.0 test cases have it (TC-PKCS12-1-20, TC-PKCS12-2-20).

import { buildPkcs12 } from '../crypto/pkcs12.js';
import { invalidField, KmipError } from '../errors.js';
import { bytesOf, childOf, item, numberOf, textOf } from '../kmip/items.js';
import { convertKeyFormat } from '../objects/key-format.js';
import { isWrapped, unwrapObject } from '../objects/key-wrapping.js';
import { attrs, type ManagedObject } from '../objects/managed-object.js';
import { pkcs12Password } from '../objects/pkcs12-password.js';
import { loadObject } from '../objects/repository.js';
import type { StructureItem } from '../ttlv/item.js';
import { KeyFormatType, LinkType, ObjectType, ResultReason, Tag } from '../ttlv/spec/generated.js';
import { versionAtLeast } from '../ttlv/spec/index.js';
import type { OperationContext } from './context.js';

/** Certificates walked at most: chains are short, and a crafted set of links must not run on. */
const MAX_CHAIN_LENGTH = 16;

/** The object of `mo` (its current form `current`) as a Private Key in a PKCS#12 Key Block. */
export async function pkcs12Object(
  ctx: OperationContext,
  mo: ManagedObject,
  current: StructureItem,
): Promise<StructureItem> {
  const block = childOf(current, Tag.KeyBlock);
  if (numberOf(childOf(block, Tag.KeyFormatType)) === KeyFormatType.PKCS_12) return current;
  if (mo.objectType !== ObjectType.PrivateKey) {
    throw new KmipError(
      ResultReason.KeyFormatTypeNotSupported,
      'PKCS#12 containers are made for Private Keys',
    );
  }
  const password = await pkcs12Password(ctx, mo.attributes);
  const clear = isWrapped(current) ? await unwrapObject(ctx, current) : current;
  const pkcs8 = convertKeyFormat(clear, KeyFormatType.PKCS_8);
  const privateKey = bytesOf(
    childOf(childOf(childOf(pkcs8, Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial),
  );
  if (privateKey === undefined) throw invalidField(`object ${mo.uid} has no key to export`);
  const certificates = await certificateChain(ctx, mo);
  const pfx = buildPkcs12({ privateKey, certificates }, password);
  const keyValue = versionAtLeast(ctx.version, '2.0')
    ? item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, pfx)])
    : item.bytes(Tag.KeyValue, pfx);
  return item.struct(Tag.PrivateKey, [
    item.struct(Tag.KeyBlock, [item.enum(Tag.KeyFormatType, KeyFormatType.PKCS_12), keyValue]),
  ]);
}

/** The one object `mo` links with any of `types`; undefined when none, an error when several. */
function linked(mo: ManagedObject, types: readonly number[]): string | undefined {
  const uids = new Set<string>();
  for (const link of attrs(mo, 'Link')) {
    const type = numberOf(childOf(link, Tag.LinkType));
    const uid = textOf(childOf(link, Tag.LinkedObjectIdentifier));
    if (type !== undefined && types.includes(type) && uid !== undefined) uids.add(uid);
  }
  if (uids.size > 1) {
    throw invalidField(`object ${mo.uid} links ${uids.size} certificates: more than one chain`);
  }
  return uids.values().next().value;
}

async function baseCertificate(
  ctx: OperationContext,
  key: ManagedObject,
): Promise<string | undefined> {
  const direct = linked(key, [LinkType.PKCS_12CertificateLink]);
  if (direct !== undefined) return direct;
  const publicKeyUid = linked(key, [LinkType.PublicKeyLink]);
  if (publicKeyUid === undefined) return undefined;
  return linked(await loadObject(ctx, publicKeyUid), [LinkType.PKCS_12CertificateLink]);
}

/** DER certificates from the base certificate up its issuer links, end entity first. */
async function certificateChain(ctx: OperationContext, key: ManagedObject): Promise<Buffer[]> {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  let uid = await baseCertificate(ctx, key);
  while (uid !== undefined && !seen.has(uid)) {
    if (chain.length === MAX_CHAIN_LENGTH) {
      throw invalidField(`the certificate chain is longer than ${MAX_CHAIN_LENGTH}`);
    }
    seen.add(uid);
    const cert = await loadObject(ctx, uid, { material: true });
    const value = bytesOf(childOf(cert.object ?? undefined, Tag.CertificateValue));
    if (cert.objectType !== ObjectType.Certificate || value === undefined) {
      throw invalidField(`the certificate chain names ${uid}, which is not a usable certificate`);
    }
    chain.push(Buffer.from(value));
    uid = linked(cert, [LinkType.CertificateLink, LinkType.PKCS_12CertificateLink]);
  }
  return chain;
}
