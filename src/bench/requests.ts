// The requests a load run sends and how their responses are judged. Forms follow the protocol
// version: before 2.0, attributes travel as Template-Attribute / Attribute{Name, Value}
// (KMIP 1.2 §4.1 Create, §4.9 Locate), which kmipd and PyKMIP's server both accept; from 2.0,
// as Attributes (KMIP 2.1 §6.1.6, §6.1.27). Every Create carries a Cryptographic Usage Mask
// because PyKMIP's server refuses one without it.

import { type Attribute, toAttributes1x, toAttributes2x } from '../kmip/attributes.js';
import { childOf, item, numberOf, textOf } from '../kmip/items.js';
import { RequestMessage, ResponseMessage } from '../kmip/messages.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import { ItemType, type TtlvItem } from '../ttlv/item.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  NameType,
  ObjectType,
  Operation,
  ResultStatus,
  Tag,
} from '../ttlv/spec/generated.js';
import { enumName, type KmipVersion, versionAtLeast } from '../ttlv/spec/index.js';

export function requestMessage(version: KmipVersion, operation: number, payload: TtlvItem[]) {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return encodeTtlv(
    RequestMessage.write(
      Tag.RequestMessage,
      {
        header: { protocolVersion: { major, minor }, batchCount: 1 },
        batchItems: [{ operation, requestPayload: item.struct(Tag.RequestPayload, payload) }],
      },
      version,
    ),
  );
}

function attributes(version: KmipVersion, list: Attribute[]): TtlvItem {
  return versionAtLeast(version, '2.0')
    ? toAttributes2x(Tag.Attributes, list, version)
    : item.struct(Tag.TemplateAttribute, toAttributes1x(list, version));
}

function nameAttribute(name: string): Attribute {
  return {
    name: 'Name',
    value: item.struct(Tag.Name, [
      item.text(Tag.NameValue, name),
      item.enum(Tag.NameType, NameType.UninterpretedTextString),
    ]),
  };
}

/** Create an AES-256 key usable for Encrypt and Decrypt, optionally with a Name. */
export function createAes256(version: KmipVersion, name?: string): Buffer {
  const list: Attribute[] = [
    {
      name: 'CryptographicAlgorithm',
      value: item.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    },
    { name: 'CryptographicLength', value: item.int(Tag.CryptographicLength, 256) },
    {
      name: 'CryptographicUsageMask',
      value: item.int(
        Tag.CryptographicUsageMask,
        CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt,
      ),
    },
  ];
  if (name !== undefined) list.push(nameAttribute(name));
  return requestMessage(version, Operation.Create, [
    item.enum(Tag.ObjectType, ObjectType.SymmetricKey),
    attributes(version, list),
  ]);
}

export function getKey(version: KmipVersion, uid: string): Buffer {
  return requestMessage(version, Operation.Get, [item.text(Tag.UniqueIdentifier, uid)]);
}

export function destroyKey(version: KmipVersion, uid: string): Buffer {
  return requestMessage(version, Operation.Destroy, [item.text(Tag.UniqueIdentifier, uid)]);
}

export function locateByName(version: KmipVersion, name: string): Buffer {
  const byName = nameAttribute(name);
  return requestMessage(
    version,
    Operation.Locate,
    versionAtLeast(version, '2.0')
      ? [toAttributes2x(Tag.Attributes, [byName], version)]
      : toAttributes1x([byName], version),
  );
}

export type Outcome =
  | { ok: true; uid: string | undefined; located: number }
  | { ok: false; reason: string; message?: string };

/**
 * Judges a one-item response: success, or the failure under its Result Reason's name. A
 * response that cannot be read at all is an error too ('InvalidResponse'), never a success.
 */
export function readOutcome(frame: Buffer, version: KmipVersion): Outcome {
  let first: ReturnType<typeof ResponseMessage.read>['batchItems'][number] | undefined;
  try {
    first = ResponseMessage.read(decodeTtlv(frame), version).batchItems[0];
  } catch (err) {
    return { ok: false, reason: 'InvalidResponse', message: (err as Error).message };
  }
  if (first === undefined)
    return { ok: false, reason: 'InvalidResponse', message: 'no batch item' };
  if (first.resultStatus !== ResultStatus.Success) {
    const reason =
      first.resultReason === undefined
        ? (enumName(Tag.ResultStatus, first.resultStatus) ?? 'OperationFailed')
        : (enumName(Tag.ResultReason, first.resultReason) ?? `Reason${first.resultReason}`);
    return { ok: false, reason, message: first.resultMessage };
  }
  const payload = first.responsePayload;
  const uid = textOf(childOf(payload, Tag.UniqueIdentifier));
  let located = 0;
  if (payload?.type === ItemType.Structure) {
    for (const c of payload.value) if (c.tag === Tag.UniqueIdentifier) located++;
  }
  return { ok: true, uid, located: numberOf(childOf(payload, Tag.LocatedItems)) ?? located };
}
