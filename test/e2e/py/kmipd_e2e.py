"""Shared plumbing for the PyKMIP driver scripts of the kmipd end-to-end tests.

Every script takes one argument, a JSON document from the TypeScript test (port, CA and client
certificate paths, material to register), and prints one JSON document with what PyKMIP saw.
The scripts record; the TypeScript tests assert.
"""

import enum
import json
import os
import sys

from kmip import enums
from kmip.core import exceptions as core_exceptions
from kmip.pie import client as pie_client
from kmip.pie import exceptions as pie_exceptions
from kmip.services import kmip_client

HOST = "127.0.0.1"

VERSIONS = {
    "1.0": enums.KMIPVersion.KMIP_1_0,
    "1.1": enums.KMIPVersion.KMIP_1_1,
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "1.3": enums.KMIPVersion.KMIP_1_3,
    "1.4": enums.KMIPVersion.KMIP_1_4,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}


def load_input():
    return json.loads(sys.argv[1])


def emit(doc):
    print(json.dumps(doc, sort_keys=True))


def pie(cfg, identity, version=None, **extra):
    """A ProxyKmipClient for one client identity; version None keeps PyKMIP's default (1.2)."""
    pair = cfg["clients"][identity]
    return pie_client.ProxyKmipClient(
        hostname=HOST,
        port=cfg["port"],
        cert=pair["cert"],
        key=pair["key"],
        ca=cfg["ca"],
        ssl_version="PROTOCOL_TLSv1_2",
        config_file=os.devnull,
        kmip_version=None if version is None else VERSIONS[version],
        **extra
    )


def proxy(cfg, identity, version):
    """The low-level KMIPProxy: Discover Versions, Query and hand-built batches."""
    pair = cfg["clients"][identity]
    return kmip_client.KMIPProxy(
        host=HOST,
        port=cfg["port"],
        certfile=pair["cert"],
        keyfile=pair["key"],
        ca_certs=cfg["ca"],
        ssl_version="PROTOCOL_TLSv1_2",
        config_file=os.devnull,
        kmip_version=VERSIONS[version],
    )


def plain(value):
    """PyKMIP values (enums, primitives, attribute structures) as JSON-friendly values."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    kind = type(value).__name__
    if kind == "Name":
        return plain(value.name_value)
    if kind == "ProtocolVersion":
        return "{}.{}".format(value.major, value.minor)
    if hasattr(value, "value"):
        return plain(value.value)
    return repr(value)


def failure(err):
    """An exception as a record: result status and reason by PyKMIP's enum names."""
    if isinstance(err, pie_exceptions.KmipOperationFailure):
        return {
            "error": "KmipOperationFailure",
            "status": plain(err.status),
            "reason": plain(err.reason),
            "message": err.message,
        }
    if isinstance(err, core_exceptions.KmipError):
        return {
            "error": type(err).__name__,
            "status": plain(getattr(err, "status", None)),
            "reason": plain(getattr(err, "reason", None)),
            "message": str(err),
        }
    return {"error": type(err).__name__, "message": str(err)}


def attempt(fn):
    """Runs fn: {"ok": True, "value": ...} or {"ok": False, "error": ..., "reason": ...}."""
    try:
        return {"ok": True, "value": fn()}
    except Exception as err:  # noqa: BLE001 - every failure is recorded for the test to judge
        record = failure(err)
        record["ok"] = False
        return record


def attributes_by_name(attributes):
    """Get Attributes results as {name: value or [values]}."""
    out = {}
    for a in attributes:
        name = a.attribute_name.value
        value = plain(a.attribute_value)
        if name in out:
            previous = out[name]
            out[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            out[name] = value
    return out


def describe(mo):
    """A pie managed object returned by Get: type, key properties and value bytes (hex)."""
    doc = {"object_type": plain(mo.object_type), "value": plain(mo.value)}
    for field in (
        "cryptographic_algorithm",
        "cryptographic_length",
        "key_format_type",
        "certificate_type",
        "data_type",
        "opaque_type",
    ):
        if hasattr(mo, field):
            doc[field] = plain(getattr(mo, field))
    return doc
