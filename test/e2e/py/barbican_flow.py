"""The calls OpenStack Barbican's KMIP secret store (barbican/plugin/kmip_secret_store.py) makes.

Barbican builds one ProxyKmipClient (TLS 1.2, PyKMIP's default KMIP version 1.2, optional
username and password sent in every request header) and wraps every single call in
`with self.client:`, so each operation runs on a fresh connection. Generated keys use
client.create(algorithm, bit_length) and client.create_key_pair(algorithm, bit_length) only;
stored secrets carry a fresh UUID as their only Name; deletion is Destroy without Revoke.

Input: port, ca, clients, identity, optional username/password, and material (hex):
symmetric, private_key (PKCS#8 DER), public_key (SPKI DER), certificate (DER), passphrase,
opaque. The "name_check" entries are not part of Barbican's flow: they read the Name back.
"""

import uuid

from kmip import enums
from kmip.pie import objects

from kmipd_e2e import attempt, attributes_by_name, describe, emit, load_input, pie, plain

Alg = enums.CryptographicAlgorithm


def main():
    cfg = load_input()
    credentials = {}
    if cfg.get("username") is not None:
        credentials = {"username": cfg["username"], "password": cfg["password"]}
    client = pie(cfg, cfg["identity"], **credentials)
    material = {k: bytes.fromhex(v) for k, v in cfg["material"].items()}

    local_ports = []

    def call(fn):
        # kmip_secret_store.py: `with self.client:` around every operation. The local port of
        # each connection is kept so the test can tell every call had its own.
        def run():
            with client:
                local_ports.append(client.proxy.socket.getsockname()[1])
                return fn()

        return attempt(run)

    out = {"kmip_version": plain(client.kmip_version)}

    generated = {}
    for label, alg, length in (
        ("aes-128", Alg.AES, 128),
        ("aes-192", Alg.AES, 192),
        ("aes-256", Alg.AES, 256),
        ("3des-192", Alg.TRIPLE_DES, 192),
        ("hmac-sha256-256", Alg.HMAC_SHA256, 256),
    ):
        generated[label] = {"create": call(lambda: client.create(alg, length))}
    out["generate_symmetric"] = generated

    pair = call(lambda: client.create_key_pair(Alg.RSA, 2048))
    out["generate_asymmetric"] = {"create": pair}

    builders = {
        "symmetric": lambda n: objects.SymmetricKey(Alg.AES, 256, material["symmetric"], name=n),
        "private": lambda n: objects.PrivateKey(
            Alg.RSA, 2048, material["private_key"], enums.KeyFormatType.PKCS_8, name=n
        ),
        "public": lambda n: objects.PublicKey(
            Alg.RSA, 2048, material["public_key"], enums.KeyFormatType.X_509, name=n
        ),
        "certificate": lambda n: objects.X509Certificate(material["certificate"], name=n),
        "passphrase": lambda n: objects.SecretData(
            material["passphrase"], enums.SecretDataType.PASSWORD, name=n
        ),
        "opaque": lambda n: objects.OpaqueObject(
            material["opaque"], enums.OpaqueDataType.NONE, name=n
        ),
    }
    stored = {}
    for label, build in builders.items():
        name = str(uuid.uuid4())
        stored[label] = {"name": name, "register": call(lambda: client.register(build(name)))}
    out["store_secret"] = stored

    # get_secret for everything, as Barbican does on retrieval; then delete_secret.
    uids = {}
    for label, entry in generated.items():
        if entry["create"]["ok"]:
            uids["generated-" + label] = entry["create"]["value"]
    if pair["ok"]:
        uids["generated-rsa-public"], uids["generated-rsa-private"] = pair["value"]
    for label, entry in stored.items():
        if entry["register"]["ok"]:
            uids["stored-" + label] = entry["register"]["value"]
    out["uids"] = uids

    out["get_secret"] = {
        label: call(lambda: describe(client.get(uid))) for label, uid in uids.items()
    }
    out["name_check"] = {
        label: call(lambda: attributes_by_name(client.get_attributes(uids[key], ["Name"])[1]))
        for label, key in (("stored-" + k, "stored-" + k) for k in stored)
        if key in uids
    }
    out["delete_secret"] = {label: call(lambda: client.destroy(uid)) for label, uid in uids.items()}
    out["get_after_delete"] = {label: call(lambda: client.get(uid)) for label, uid in uids.items()}
    out["local_ports"] = local_ports
    emit(out)


if __name__ == "__main__":
    main()
