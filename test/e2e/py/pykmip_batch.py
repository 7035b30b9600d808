"""Batches of several items in one request message, at one KMIP version.

PyKMIP 0.10 has no API that sends a batch (KMIPProxy's batch=True only queues items), so the
request is built from kmip.core.messages and sent over the proxy's own connection. Each item
carries a Unique Batch Item ID so the test can check the response items line up.

Batch "ok": Discover Versions, Query, Create (AES-256), then Activate, Get Attributes and Get
with no Unique Identifier (the ID Placeholder of the Create), Get Attribute List by uid.
Batch "stop": Get of an unknown uid, then Query, with the default Batch Error Continuation
Option (Stop).
"""

from kmip import enums
from kmip.core import enums as core_enums
from kmip.core import objects as core_objects
from kmip.core.factories import attributes as attribute_factories
from kmip.core.messages import messages, payloads
from kmip.core.messages.contents import Operation, UniqueBatchItemID

from kmipd_e2e import attempt, attributes_by_name, emit, load_input, plain, proxy


def item(operation, payload, index):
    return messages.RequestBatchItem(
        operation=Operation(operation),
        unique_batch_item_id=UniqueBatchItemID(bytes([index])),
        request_payload=payload,
    )


def summarize_payload(operation, payload):
    if payload is None:
        return None
    if operation == enums.Operation.DISCOVER_VERSIONS:
        return {"versions": plain(payload.protocol_versions)}
    if operation == enums.Operation.QUERY:
        return {"operations": plain(payload.operations)}
    if operation in (
        enums.Operation.CREATE,
        enums.Operation.ACTIVATE,
        enums.Operation.GET_ATTRIBUTE_LIST,
    ):
        doc = {"uid": plain(payload.unique_identifier)}
        if operation == enums.Operation.GET_ATTRIBUTE_LIST:
            doc["names"] = sorted(plain(payload.attribute_names))
        return doc
    if operation == enums.Operation.GET_ATTRIBUTES:
        return {
            "uid": plain(payload.unique_identifier),
            "attributes": attributes_by_name(payload.attributes),
        }
    if operation == enums.Operation.GET:
        block = payload.secret.key_block
        material = block.key_value.key_material
        return {
            "uid": plain(payload.unique_identifier),
            "object_type": plain(payload.object_type),
            "algorithm": plain(block.cryptographic_algorithm),
            "length": plain(block.cryptographic_length),
            "key_bytes": len(bytes(material.value)),
        }
    return repr(payload)


def send(p, items):
    request = p._build_request_message(None, items)
    response = p._send_and_receive_message(request)
    out = []
    for bi in response.batch_items:
        operation = bi.operation.value if bi.operation is not None else None
        entry = {
            "operation": plain(operation),
            "id": plain(bi.unique_batch_item_id),
            "status": plain(bi.result_status),
        }
        if bi.result_reason is not None:
            entry["reason"] = plain(bi.result_reason)
            entry["message"] = plain(bi.result_message)
        if bi.result_status.value == enums.ResultStatus.SUCCESS:
            entry["payload"] = summarize_payload(operation, bi.response_payload)
        out.append(entry)
    return {"batch_count": plain(response.response_header.batch_count), "items": out}


def main():
    cfg = load_input()
    version = cfg["version"]
    factory = attribute_factories.AttributeFactory()
    template = core_objects.TemplateAttribute(
        attributes=[
            factory.create_attribute(
                enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM, enums.CryptographicAlgorithm.AES
            ),
            factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 256),
            factory.create_attribute(
                enums.AttributeType.CRYPTOGRAPHIC_USAGE_MASK,
                [enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT],
            ),
            factory.create_attribute(enums.AttributeType.NAME, cfg["name"]),
        ]
    )
    out = {"version": version}
    p = proxy(cfg, cfg["identity"], version)
    p.open()
    try:
        ok_items = [
            item(enums.Operation.DISCOVER_VERSIONS, payloads.DiscoverVersionsRequestPayload(), 1),
            item(
                enums.Operation.QUERY,
                payloads.QueryRequestPayload([core_enums.QueryFunction.QUERY_OPERATIONS]),
                2,
            ),
            item(
                enums.Operation.CREATE,
                payloads.CreateRequestPayload(enums.ObjectType.SYMMETRIC_KEY, template),
                3,
            ),
            item(enums.Operation.ACTIVATE, payloads.ActivateRequestPayload(), 4),
            item(
                enums.Operation.GET_ATTRIBUTES,
                payloads.GetAttributesRequestPayload(None, ["State", "Name"]),
                5,
            ),
            item(enums.Operation.GET, payloads.GetRequestPayload(), 6),
        ]
        out["ok"] = attempt(lambda: send(p, ok_items))
        created = None
        if out["ok"]["ok"]:
            for entry in out["ok"]["value"]["items"]:
                if entry["operation"] == "CREATE" and entry.get("payload"):
                    created = entry["payload"]["uid"]
        if created is not None:
            out["list"] = attempt(
                lambda: send(
                    p,
                    [
                        item(
                            enums.Operation.GET_ATTRIBUTE_LIST,
                            payloads.GetAttributeListRequestPayload(created),
                            1,
                        )
                    ],
                )
            )
        stop_items = [
            item(
                enums.Operation.GET,
                payloads.GetRequestPayload(
                    unique_identifier="00000000-0000-0000-0000-000000000000"
                ),
                1,
            ),
            item(
                enums.Operation.QUERY,
                payloads.QueryRequestPayload([core_enums.QueryFunction.QUERY_OPERATIONS]),
                2,
            ),
        ]
        out["stop"] = attempt(lambda: send(p, stop_items))
    finally:
        p.close()
    emit(out)


if __name__ == "__main__":
    main()
