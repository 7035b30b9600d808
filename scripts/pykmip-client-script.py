"""Drives the PyKMIP 0.10 client through one fixed sequence of operations per KMIP version.

Run by scripts/capture-pykmip.ts, which records the bytes in a TLS proxy between this client and
pykmip-server. Usage: pykmip-client-script.py HOST PORT CERT KEY CA CERT_DER VERSION...

Every operation runs even when an earlier one failed: errors the server answers are part of the
capture. One line per operation goes to stdout so the capture script can report what happened.
"""

import os
import sys
import traceback

from kmip import enums
from kmip.core import enums as core_enums
from kmip.core.factories import attributes as attribute_factories
from kmip.pie import client as pie_client
from kmip.pie import objects
from kmip.services import kmip_client

VERSIONS = {
    "1.0": enums.KMIPVersion.KMIP_1_0,
    "1.1": enums.KMIPVersion.KMIP_1_1,
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "1.3": enums.KMIPVersion.KMIP_1_3,
    "1.4": enums.KMIPVersion.KMIP_1_4,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}

# Exactly 16 characters: a Text String whose length is a multiple of 8 needs no padding.
NAME_16 = "kmipd-capture-16"


def step(label, fn):
    try:
        result = fn()
        print("ok   {}: {}".format(label, summarize(result)), flush=True)
        return result
    except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
        print("FAIL {}: {}: {}".format(label, type(e).__name__, e), flush=True)
        if os.environ.get("CAPTURE_TRACE"):
            traceback.print_exc()
        return None


def summarize(result):
    text = repr(result)
    return text if len(text) < 160 else text[:157] + "..."


def run_proxy(version, host, port, cert, key, ca):
    """Discover Versions and Query through the low-level KMIPProxy (not exposed by the pie API)."""
    proxy = kmip_client.KMIPProxy(
        host=host,
        port=port,
        certfile=cert,
        keyfile=key,
        ca_certs=ca,
        ssl_version="PROTOCOL_TLSv1_2",
        config_file=os.devnull,
        kmip_version=version,
    )
    proxy.open()
    try:
        step("DiscoverVersions", lambda: proxy.discover_versions().result_status)
        step(
            "Query",
            lambda: proxy.query(
                query_functions=[
                    core_enums.QueryFunction.QUERY_OPERATIONS,
                    core_enums.QueryFunction.QUERY_OBJECTS,
                    core_enums.QueryFunction.QUERY_SERVER_INFORMATION,
                ]
            ).result_status,
        )
    finally:
        proxy.close()


def run_pie(version, host, port, cert, key, ca, cert_der):
    client = pie_client.ProxyKmipClient(
        hostname=host,
        port=port,
        cert=cert,
        key=key,
        ca=ca,
        ssl_version="PROTOCOL_TLSv1_2",
        config_file=os.devnull,
        kmip_version=version,
    )
    factory = attribute_factories.AttributeFactory()
    with client:
        key_id = step(
            "Create",
            lambda: client.create(enums.CryptographicAlgorithm.AES, 256, name=NAME_16),
        )
        # Without usage masks PyKMIP's server refuses Create Key Pair (Invalid Field): keep that
        # error response, then the same request with masks.
        step(
            "CreateKeyPair(no masks)",
            lambda: client.create_key_pair(
                enums.CryptographicAlgorithm.RSA,
                2048,
                public_name="kmipd-capture-public",
                private_name="kmipd-capture-private",
            ),
        )
        step(
            "CreateKeyPair",
            lambda: client.create_key_pair(
                enums.CryptographicAlgorithm.RSA,
                2048,
                public_name="kmipd-capture-public",
                public_usage_mask=[enums.CryptographicUsageMask.VERIFY],
                private_name="kmipd-capture-private",
                private_usage_mask=[enums.CryptographicUsageMask.SIGN],
            ),
        )
        secret_id = step(
            "Register(SecretData)",
            lambda: client.register(
                objects.SecretData(
                    b"correct horse battery staple", enums.SecretDataType.PASSWORD
                )
            ),
        )
        step(
            "Register(SymmetricKey)",
            lambda: client.register(
                objects.SymmetricKey(
                    enums.CryptographicAlgorithm.AES,
                    128,
                    bytes(range(16)),
                    name="kmipd-register-k",
                )
            ),
        )
        step(
            "Register(Certificate)",
            lambda: client.register(objects.X509Certificate(cert_der)),
        )
        step("Get", lambda: client.get(key_id))
        step(
            "GetAttributes",
            lambda: client.get_attributes(
                key_id, ["Name", "Cryptographic Algorithm", "Cryptographic Length"]
            ),
        )
        step("GetAttributeList", lambda: client.get_attribute_list(key_id))
        step(
            "Locate",
            lambda: client.locate(
                attributes=[factory.create_attribute(enums.AttributeType.NAME, NAME_16)]
            ),
        )
        step("Activate", lambda: client.activate(key_id))
        step(
            "Revoke",
            lambda: client.revoke(
                enums.RevocationReasonCode.CESSATION_OF_OPERATION,
                key_id,
                revocation_message="capture done",
            ),
        )
        step("Destroy", lambda: client.destroy(key_id))
        step("Destroy(SecretData)", lambda: client.destroy(secret_id))


def main(argv):
    host, port, cert, key, ca, cert_der_path = argv[1:7]
    with open(cert_der_path, "rb") as f:
        cert_der = f.read()
    for label in argv[7:]:
        version = VERSIONS[label]
        print("== KMIP {}".format(label), flush=True)
        run_proxy(version, host, int(port), cert, key, ca)
        run_pie(version, host, int(port), cert, key, ca, cert_der)


if __name__ == "__main__":
    main(sys.argv)
