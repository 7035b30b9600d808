// KMIP 2.1 §6.1.7 Certify (KMIP 1.4 §4.7): an X.509 certificate signed by the configured CA
// (src/crypto/ca.ts) for a public key managed here (Unique Identifier, or the ID Placeholder)
// or for a PKCS #10 Certificate Request (DER, or PEM). The certificate becomes a managed
// Certificate; it and the public key are joined by Public Key Link and Certificate Link. A key
// given by identifier gets the subject CN = its first Name, else its Unique Identifier.

import { createPublicKey } from 'node:crypto';
import {
  type CertificateAuthority,
  commonNameDer,
  issueCertificate,
  readCertificationRequest,
} from '../crypto/ca.js';
import { asymmetricKey } from '../crypto/cipher.js';
import { pemToDer } from '../crypto/der.js';
import { KmipError } from '../errors.js';
import { attributeSet, templateAttribute } from '../kmip/attribute-fields.js';
import type { Attribute } from '../kmip/attributes.js';
import { childOf, item, textOf } from '../kmip/items.js';
import { bytes, enumeration, opt, raw, struct, text, versions } from '../kmip/schema.js';
import { digestSources } from '../objects/digest.js';
import { requireKeyValue } from '../objects/key-value.js';
import { attr, type ManagedObject, setAttr } from '../objects/managed-object.js';
import { newManagedObject } from '../objects/new-object.js';
import { derivedAttributes } from '../objects/object-attributes.js';
import { insertObject, loadObject, saveObject } from '../objects/repository.js';
import { ItemType, type StructureItem, type TtlvItem } from '../ttlv/item.js';
import {
  CertificateRequestType,
  CertificateType,
  LinkType,
  ObjectType,
  ResultReason,
  Tag,
} from '../ttlv/spec/generated.js';
import { type OperationContext, operation } from './context.js';
import { givenAttributes } from './create.js';
import { linkTo } from './rekey.js';
import { UidResult } from './uid-payload.js';

/** The request fields Certify and Re-certify share. */
export const certificateRequestFields = {
  uniqueIdentifier: opt(text(Tag.UniqueIdentifier)),
  certificateRequestUniqueIdentifier: opt(
    versions(text(Tag.CertificateRequestUniqueIdentifier), { since: '2.0' }),
  ),
  certificateRequestType: opt(enumeration(Tag.CertificateRequestType)),
  /** KMIP 1.x Certificate Request (a Byte String on the wire). */
  certificateRequest: opt(raw(Tag.CertificateRequest)),
  certificateRequestValue: opt(versions(bytes(Tag.CertificateRequestValue), { since: '2.0' })),
  templateAttribute: opt(templateAttribute(Tag.TemplateAttribute)),
  attributes: opt(attributeSet(Tag.Attributes)),
};

const CertifyRequest = struct(certificateRequestFields);

type RequestFields = {
  certificateRequestUniqueIdentifier?: string;
  certificateRequestType?: number;
  certificateRequest?: TtlvItem;
  certificateRequestValue?: Uint8Array;
};

export function requireCa(ctx: OperationContext): CertificateAuthority {
  if (ctx.ca === undefined) {
    throw new KmipError(
      ResultReason.FeatureNotSupported,
      'no certificate authority is configured for Certify',
    );
  }
  return ctx.ca;
}

/** Subject and key of the request's certificate request, or undefined when it has none. */
export function requestedSubject(
  req: RequestFields,
): { subjectDer: Buffer; spkiDer: Buffer } | undefined {
  if (req.certificateRequestUniqueIdentifier !== undefined) {
    throw new KmipError(
      ResultReason.FeatureNotSupported,
      'managed Certificate Request objects are not supported; send the request value',
    );
  }
  const v1 = req.certificateRequest;
  const value =
    req.certificateRequestValue ?? (v1?.type === ItemType.ByteString ? v1.value : undefined);
  if (v1 !== undefined && value === undefined) {
    throw new KmipError(ResultReason.InvalidField, 'Certificate Request must be a Byte String');
  }
  if (value === undefined) return undefined;
  const type = req.certificateRequestType ?? CertificateRequestType.PKCS_10;
  if (type === CertificateRequestType.PKCS_10) return readCertificationRequest(value);
  if (type === CertificateRequestType.PEM) {
    const pem = Buffer.from(value).toString('latin1');
    const label = pem.includes('NEW CERTIFICATE REQUEST')
      ? 'NEW CERTIFICATE REQUEST'
      : 'CERTIFICATE REQUEST';
    return readCertificationRequest(pemToDer(pem, label));
  }
  throw new KmipError(
    ResultReason.FeatureNotSupported,
    'only PKCS #10 certificate requests (DER or PEM) are supported',
  );
}

/** The public key's SubjectPublicKeyInfo, loaded with its material. */
export async function publicKeyOf(
  ctx: OperationContext,
  uid: string,
): Promise<{ mo: ManagedObject; spkiDer: Buffer }> {
  const mo = await loadObject(ctx, uid, { material: true });
  if (mo.objectType !== ObjectType.PublicKey) {
    throw new KmipError(ResultReason.InvalidObjectType, `object ${uid} is not a Public Key`);
  }
  if (mo.object === null) {
    throw new KmipError(ResultReason.InvalidField, `public key ${uid} has no key material`);
  }
  requireKeyValue(ctx.version, uid, mo.object, 'certify');
  const spkiDer = asymmetricKey(mo.object).export({ type: 'spki', format: 'der' });
  return { mo, spkiDer };
}

export function sameKey(a: Buffer, b: Buffer): boolean {
  const der = (k: Buffer) =>
    createPublicKey({ key: k, format: 'der', type: 'spki' }).export({
      type: 'spki',
      format: 'der',
    });
  return der(a).equals(der(b));
}

export function certificateObject(der: Buffer): StructureItem {
  return item.struct(Tag.Certificate, [
    item.enum(Tag.CertificateType, CertificateType.X_509),
    item.bytes(Tag.CertificateValue, der),
  ]);
}

/** Certificate Link from the public key to its (new) certificate. */
export async function linkKeyToCertificate(
  ctx: OperationContext,
  key: ManagedObject,
  certUid: string,
): Promise<void> {
  key.attributes.push(linkTo(LinkType.CertificateLink, certUid));
  setAttr(key, item.date(Tag.LastChangeDate, ctx.now));
  await saveObject(ctx, key);
}

export const certify = operation({
  request: CertifyRequest,
  response: UidResult,
  async run(req, ctx) {
    const ca = requireCa(ctx);
    const requested = requestedSubject(req);
    const keyUid = req.uniqueIdentifier ?? (requested === undefined ? ctx.placeholder : undefined);
    if (requested === undefined && keyUid === undefined) {
      throw new KmipError(
        ResultReason.InvalidField,
        'Certify needs a public key Unique Identifier or a Certificate Request',
      );
    }
    const key = keyUid === undefined ? undefined : await publicKeyOf(ctx, keyUid);
    if (requested !== undefined && key !== undefined && !sameKey(requested.spkiDer, key.spkiDer)) {
      throw new KmipError(
        ResultReason.InvalidField,
        'the Certificate Request is for another key than the Unique Identifier names',
      );
    }
    const subjectDer =
      requested?.subjectDer ??
      commonNameDer(textOf(childOf(attr(key!.mo, 'Name'), Tag.NameValue)) ?? key!.mo.uid);
    const der = issueCertificate(ca, {
      subjectDer,
      spkiDer: requested?.spkiDer ?? key!.spkiDer,
      notBefore: new Date(Number(ctx.now) * 1000),
    });
    const object = certificateObject(der);
    const given: Attribute[] = givenAttributes(req).filter((a) => a.name !== 'Link');
    const mo = newManagedObject(ctx, {
      objectType: ObjectType.Certificate,
      object,
      given,
      derived: derivedAttributes(ObjectType.Certificate, object, given),
      digestOf: digestSources(ObjectType.Certificate, object),
    });
    if (key !== undefined) mo.attributes.push(linkTo(LinkType.PublicKeyLink, key.mo.uid));
    await insertObject(ctx, mo);
    if (key !== undefined) await linkKeyToCertificate(ctx, key.mo, mo.uid);
    return { uniqueIdentifier: mo.uid };
  },
});
