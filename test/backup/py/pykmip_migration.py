"""PyKMIP's client on both sides of a migration from pykmip-server to kmipd.

"seed" (against pykmip-server): Create an AES-256 key and activate it, Create Key Pair
(RSA-2048), Register secret data (a password), an X.509 certificate and an opaque object,
each with a name. "read" (against either server): Get and Get Attributes of every uid given.
Prints what PyKMIP saw; the TypeScript test asserts.
"""

import binascii
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "e2e", "py"))

from kmip import enums  # noqa: E402
from kmip.pie import objects  # noqa: E402

from kmipd_e2e import attempt, attributes_by_name, describe, emit, load_input, pie  # noqa: E402

MASKS = [enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT]
ATTRIBUTES = [
    "Name",
    "Object Type",
    "Cryptographic Algorithm",
    "Cryptographic Length",
    "Cryptographic Usage Mask",
    "State",
]


def seed(c, cfg):
    uids = {}
    uids["aes"] = c.create(enums.CryptographicAlgorithm.AES, 256, name="mig-aes", cryptographic_usage_mask=MASKS)
    c.activate(uids["aes"])
    public, private = c.create_key_pair(
        enums.CryptographicAlgorithm.RSA,
        2048,
        public_name="mig-rsa-public",
        public_usage_mask=[enums.CryptographicUsageMask.VERIFY],
        private_name="mig-rsa-private",
        private_usage_mask=[enums.CryptographicUsageMask.SIGN],
    )
    uids["rsa-public"] = public
    uids["rsa-private"] = private
    secret = objects.SecretData(b"correct horse battery", enums.SecretDataType.PASSWORD, name="mig-secret")
    uids["secret"] = c.register(secret)
    cert = objects.X509Certificate(binascii.unhexlify(cfg["certificate"]), name="mig-cert")
    uids["certificate"] = c.register(cert)
    opaque = objects.OpaqueObject(b"\x00opaque\xffbytes", enums.OpaqueDataType.NONE, name="mig-opaque")
    uids["opaque"] = c.register(opaque)
    return uids


def read(c, uids):
    out = {}
    for uid in uids:
        out[uid] = {
            "get": attempt(lambda: describe(c.get(uid))),
            "attributes": attempt(lambda: attributes_by_name(c.get_attributes(uid, ATTRIBUTES)[1])),
        }
    return out


def main():
    cfg = load_input()
    c = pie(cfg, cfg["identity"])
    c.open()
    try:
        if cfg["action"] == "seed":
            uids = seed(c, cfg)
            emit({"uids": uids, "objects": read(c, list(uids.values()))})
        else:
            emit({"objects": read(c, cfg["uids"])})
    finally:
        c.close()


if __name__ == "__main__":
    main()
