// Register of a Private Key in Key Format Type PKCS#12 (KMIP 1.4 §9.1.3.2.3; the KMIP Usage
// Guide's PKCS#12 section): the server opens the container with the password of the key's
// PKCS#12 Password Link, registers the private key and the certificate chain as objects of
// their own, links the key to its certificate with a PKCS#12 Certificate Link, and answers with
// the private key's Unique Identifier. When the container holds several keys, the PKCS#12
// Friendly Name the client gives names the one to register.
//
// The key is kept in PKCS#8 with the Cryptographic Algorithm and Length read from it, so Get
// without a format returns PKCS#8 and Get in PKCS#12 builds a new container from the key and its
// linked chain (src/operations/pkcs12-container.ts), as TC-PKCS12-2-14 and TC-PKCS12-2-20 show.
// The chain is the certificate whose public key is the key's, then each issuer found among the
// container's certificates, each linked to its issuer with a Certificate Link; certificates off
// that chain are not registered. The certificates get the key's PKCS#12 Friendly Name and none of
// its other attributes. A password that does not open the container is refused like a missing
// one (src/objects/pkcs12-password.ts): Bad Password, or Invalid Field for 1.x clients.
//
// Digests (src/objects/digest.ts takes a registered key's mandatory instance in the format the
// client sent): the container is no key format, so the key's one Digest is over the PKCS#8 it
// is kept in, and the certificates' Digest names no Key Format Type (optional in a Digest), as
// TC-PKCS12-2-14/-20 show; a certificate registered on its own names Raw (TC-CERTATTR-1).

import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { inspectKeyDer } from '../crypto/key-formats.js';
import { readPkcs12 } from '../crypto/pkcs12.js';
import { parseCertificate } from '../crypto/x509.js';
import { invalidField, KmipError } from '../errors.js';
import type { Attribute } from '../kmip/attributes.js';
import { bytesOf, childOf, item, textOf } from '../kmip/items.js';
import { requireConstraints } from '../objects/constraints.js';
import type { DigestSource } from '../objects/digest.js';
import { acceptWrapped } from '../objects/key-wrapping.js';
import { attr, type ManagedObject } from '../objects/managed-object.js';
import { newManagedObject } from '../objects/new-object.js';
import { derivedAttributes } from '../objects/object-attributes.js';
import { badPassword, pkcs12Password } from '../objects/pkcs12-password.js';
import { insertObject } from '../objects/repository.js';
import type { StructureItem } from '../ttlv/item.js';
import {
  CertificateType,
  KeyFormatType,
  LinkType,
  ObjectType,
  ResultReason,
  Tag,
} from '../ttlv/spec/generated.js';
import { enumValue } from '../ttlv/spec/index.js';
import type { OperationContext } from './context.js';

/** Registers the key `object` (a PKCS#12 Key Block) holds and its chain; the key's UID. */
export async function registerPkcs12(
  ctx: OperationContext,
  objectType: number,
  object: StructureItem,
  given: readonly Attribute[],
): Promise<string> {
  if (objectType !== ObjectType.PrivateKey) {
    throw new KmipError(
      ResultReason.KeyFormatTypeNotSupported,
      'PKCS#12 containers are registered as Private Keys',
    );
  }
  const password = await pkcs12Password(ctx, given);
  const { clear } = await acceptWrapped(ctx, object);
  if (clear === undefined) {
    throw new KmipError(
      ResultReason.FeatureNotSupported,
      'a PKCS#12 container wrapped under a key this server cannot use cannot be opened',
    );
  }
  const keyValue = childOf(childOf(clear, Tag.KeyBlock), Tag.KeyValue);
  // KMIP 1.x test cases send the container as the Key Value itself, 2.x as its Key Material.
  const pfx = bytesOf(keyValue) ?? bytesOf(childOf(keyValue, Tag.KeyMaterial));
  if (pfx === undefined) throw invalidField('the PKCS#12 Key Block holds no container');
  const contents = openContainer(ctx, pfx, password);

  const requested = textOf(attr({ attributes: [...given] }, 'PKCS_12FriendlyName'));
  const key = chooseKey(contents.keys, requested);
  const friendlyName = requested ?? key.friendlyName;
  const keyGiven = [...given];
  if (requested === undefined && friendlyName !== undefined) {
    keyGiven.push({ name: 'PKCS_12FriendlyName', value: friendlyFor(friendlyName) });
  }
  const keyMo = newRegistered(ctx, ObjectType.PrivateKey, pkcs8Object(key.der), keyGiven, {
    bytes: key.der,
    keyFormatType: KeyFormatType.PKCS_8,
  });

  const certGiven: Attribute[] =
    friendlyName === undefined
      ? []
      : [{ name: 'PKCS_12FriendlyName', value: friendlyFor(friendlyName) }];
  const certMos = certificateChain(key.der, contents.certificates).map((der) =>
    certificateObject(ctx, der, certGiven),
  );
  for (const [i, cert] of certMos.entries()) {
    const issuer = certMos[i + 1];
    if (issuer !== undefined) cert.attributes.push(link(LinkType.CertificateLink, issuer.uid));
  }
  const [endEntity] = certMos;
  if (endEntity !== undefined) {
    keyMo.attributes.push(link(LinkType.PKCS_12CertificateLink, endEntity.uid));
  }
  // Everything is checked before anything is stored: a refusal leaves no half-registered chain.
  await requireConstraints(ctx, [keyMo, ...certMos]);
  await insertObject(ctx, keyMo);
  for (const cert of certMos) await insertObject(ctx, cert);
  return keyMo.uid;
}

function openContainer(ctx: OperationContext, pfx: Uint8Array, password: Uint8Array) {
  try {
    return readPkcs12(pfx, password);
  } catch (err) {
    // The MAC or a decryption failed: the password is not the container's.
    if (err instanceof KmipError && err.reason === ResultReason.CryptographicFailure) {
      throw badPassword(ctx, 'the PKCS#12 password does not open the container');
    }
    throw err;
  }
}

function chooseKey<K extends { friendlyName?: string }>(keys: readonly K[], name?: string): K {
  if (keys.length === 1) return keys[0]!;
  if (keys.length === 0) throw invalidField('the PKCS#12 container holds no private key');
  const named = keys.filter((k) => name !== undefined && k.friendlyName === name);
  if (named.length !== 1) {
    throw invalidField(
      `the PKCS#12 container holds ${keys.length} private keys; a PKCS#12 Friendly Name must name one of them`,
    );
  }
  return named[0]!;
}

function newRegistered(
  ctx: OperationContext,
  objectType: number,
  object: StructureItem,
  given: readonly Attribute[],
  digestOf: DigestSource,
): ManagedObject {
  const derived = derivedAttributes(objectType, object, given);
  return newManagedObject(ctx, { objectType, object, given, derived, digestOf, registered: true });
}

const friendlyFor = (name: string) => item.text(Tag.PKCS_12FriendlyName, name);

const link = (type: number, uid: string): Attribute => ({
  name: 'Link',
  value: item.struct(Tag.Link, [
    item.enum(Tag.LinkType, type),
    item.text(Tag.LinkedObjectIdentifier, uid),
  ]),
});

/** The key as a PKCS#8 Private Key with the algorithm and length it has. */
function pkcs8Object(der: Buffer): StructureItem {
  const info = inspectKeyDer(der);
  const algorithm = enumValue(Tag.CryptographicAlgorithm, info.algorithm);
  return item.struct(Tag.PrivateKey, [
    item.struct(Tag.KeyBlock, [
      item.enum(Tag.KeyFormatType, KeyFormatType.PKCS_8),
      item.struct(Tag.KeyValue, [item.bytes(Tag.KeyMaterial, der)]),
      ...(algorithm === undefined ? [] : [item.enum(Tag.CryptographicAlgorithm, algorithm)]),
      ...(info.lengthBits === undefined
        ? []
        : [item.int(Tag.CryptographicLength, info.lengthBits)]),
    ]),
  ]);
}

/**
 * The certificate of the key (the one with its public key), then its issuer, and so on, as far
 * as the container holds them. Empty when no certificate is the key's.
 */
function certificateChain(keyDer: Buffer, certificates: readonly Buffer[]): Buffer[] {
  const publicKey = createPublicKey(
    createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' }),
  );
  let parsed: X509Certificate[];
  try {
    parsed = certificates.map((der) => new X509Certificate(der));
  } catch {
    throw invalidField('the PKCS#12 container holds a certificate that is not valid X.509');
  }
  const chain: X509Certificate[] = [];
  let next = parsed.find((c) => c.publicKey.equals(publicKey));
  while (next !== undefined && !chain.includes(next)) {
    chain.push(next);
    const current = next;
    next = parsed.find((c) => c !== current && !chain.includes(c) && current.checkIssued(c));
  }
  return chain.map((c) => c.raw);
}

/**
 * A Certificate object for `der`. TC-PKCS12-2-14 and TC-PKCS12-2-20 show the X.509 Certificate
 * Identifier of a certificate taken from a container with the serial number as the INTEGER's
 * content octets (00d2f5bad76a5ac8f9), where a certificate registered on its own shows the whole
 * DER INTEGER (TC-CERTATTR-1: 0208...); each keeps the form its test cases show, and Locate
 * matches either form (src/objects/repository.ts).
 */
function certificateObject(
  ctx: OperationContext,
  der: Buffer,
  given: readonly Attribute[],
): ManagedObject {
  const object = item.struct(Tag.Certificate, [
    item.enum(Tag.CertificateType, CertificateType.X_509),
    item.bytes(Tag.CertificateValue, der),
  ]);
  const mo = newRegistered(ctx, ObjectType.Certificate, object, given, { bytes: der });
  const { issuerDer, serialNumber } = parseCertificate(der).identifier;
  mo.attributes = mo.attributes.map((a) =>
    a.name === 'X_509CertificateIdentifier'
      ? {
          name: a.name,
          value: item.struct(Tag.X_509CertificateIdentifier, [
            item.bytes(Tag.IssuerDistinguishedName, issuerDer),
            item.bytes(Tag.CertificateSerialNumber, serialNumber),
          ]),
        }
      : a,
  );
  return mo;
}
