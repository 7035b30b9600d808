// KMIP 2.1 §6.1.43 Re-certify (KMIP 1.4 §4.8): a new certificate, signed by the configured CA,
// for the key and subject of an existing managed certificate (or of a Certificate Request for
// that same key), valid from now plus Offset. As with Re-key, the new certificate copies the
// old one's attributes, and Replaced Object / Replacement Object Links join the two; the
// public key, when linked, gets a Certificate Link to the new certificate.

import { issueCertificate } from '../crypto/ca.js';
import { parseCertificate } from '../crypto/x509.js';
import { KmipError } from '../errors.js';
import { bytesOf, childOf } from '../kmip/items.js';
import { interval, opt, struct } from '../kmip/schema.js';
import { digestSources } from '../objects/digest.js';
import { derivedAttributes } from '../objects/object-attributes.js';
import { insertObject, loadObject, saveObject } from '../objects/repository.js';
import { LinkType, ObjectType, ResultReason, Tag } from '../ttlv/spec/generated.js';
import {
  certificateObject,
  certificateRequestFields,
  linkKeyToCertificate,
  requestedSubject,
  requireCa,
  sameKey,
} from './certify.js';
import { operation } from './context.js';
import { givenAttributes } from './create.js';
import { linkedUid, linkTo, replacementOf, requireReplaceable, retire } from './rekey.js';
import { targetUid } from './target.js';
import { UidResult } from './uid-payload.js';

const ReCertifyRequest = struct({
  ...certificateRequestFields,
  offset: opt(interval(Tag.Offset)),
});

export const reCertify = operation({
  request: ReCertifyRequest,
  response: UidResult,
  async run(req, ctx) {
    const ca = requireCa(ctx);
    const uid = targetUid(req.uniqueIdentifier, ctx);
    const old = await loadObject(ctx, uid, { material: true });
    requireReplaceable(ctx, old, ObjectType.Certificate);
    const oldDer = bytesOf(childOf(old.object ?? undefined, Tag.CertificateValue));
    if (oldDer === undefined) {
      throw new KmipError(ResultReason.InvalidField, `certificate ${uid} has no value`);
    }
    const previous = parseCertificate(oldDer);
    const requested = requestedSubject(req);
    if (requested !== undefined && !sameKey(requested.spkiDer, previous.publicKeyDer)) {
      throw new KmipError(
        ResultReason.InvalidField,
        'the Certificate Request is for another key than the certificate',
      );
    }
    const der = issueCertificate(ca, {
      subjectDer: requested?.subjectDer ?? previous.subjectDer,
      spkiDer: previous.publicKeyDer,
      notBefore: new Date((Number(ctx.now) + (req.offset ?? 0)) * 1000),
    });
    const object = certificateObject(der);
    const requestedAttributes = givenAttributes(req).filter((a) => a.name !== 'Link');
    const mo = await replacementOf(ctx, old, requestedAttributes, req.offset, {
      objectType: ObjectType.Certificate,
      object,
      derived: derivedAttributes(ObjectType.Certificate, object, []),
      digestOf: digestSources(ObjectType.Certificate, object),
    });
    const keyUid = linkedUid(old, LinkType.PublicKeyLink);
    if (keyUid !== undefined) mo.attributes.push(linkTo(LinkType.PublicKeyLink, keyUid));
    await insertObject(ctx, mo);
    retire(ctx, old, mo.uid);
    await saveObject(ctx, old);
    if (keyUid !== undefined) {
      await linkKeyToCertificate(ctx, await loadObject(ctx, keyUid), mo.uid);
    }
    return { uniqueIdentifier: mo.uid };
  },
});
