"""Object ownership across client identities, at one KMIP version.

Input: port, ca, clients (alice, bob, root: certificates from one CA; root is an --admin),
version, name (unique). Alice creates a key and registers secret data; bob tries to reach
them by uid and by name; a uid that never existed is tried for comparison; alice checks her
objects are untouched; root (admin) then reads, locates and retires them.
"""

from kmip import enums
from kmip.pie import objects

from kmipd_e2e import attempt, attributes_by_name, describe, emit, load_input, pie

UNKNOWN = "00000000-0000-0000-0000-000000000000"


def by_name(client, name):
    return client.locate(
        attributes=[client.attribute_factory.create_attribute(enums.AttributeType.NAME, name)]
    )


def main():
    cfg = load_input()
    version = cfg["version"]
    name = cfg["name"]
    alice = pie(cfg, "alice", version)
    bob = pie(cfg, "bob", version)
    root = pie(cfg, "root", version)
    out = {"version": version}

    with alice:
        key = attempt(lambda: alice.create(enums.CryptographicAlgorithm.AES, 256, name=name))
        secret = attempt(
            lambda: alice.register(
                objects.SecretData(b"alice's password", enums.SecretDataType.PASSWORD)
            )
        )
    out["alice_create"] = key
    out["alice_register"] = secret
    uid = key.get("value")
    secret_uid = secret.get("value")

    def attempts(client, target):
        return {
            "get": attempt(lambda: describe(client.get(target))),
            "get_attributes": attempt(
                lambda: attributes_by_name(client.get_attributes(target, ["State"])[1])
            ),
            "get_attribute_list": attempt(lambda: client.get_attribute_list(target)),
            "activate": attempt(lambda: client.activate(target)),
            "revoke": attempt(
                lambda: client.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, target)
            ),
            "destroy": attempt(lambda: client.destroy(target)),
        }

    with bob:
        out["bob_on_alice_key"] = attempts(bob, uid)
        out["bob_on_alice_secret"] = attempts(bob, secret_uid)
        out["bob_on_unknown"] = attempts(bob, UNKNOWN)
        out["bob_locate_by_name"] = attempt(lambda: by_name(bob, name))
        out["bob_locate_all"] = attempt(lambda: bob.locate())

    with alice:
        out["alice_after_bob"] = {
            "get": attempt(lambda: describe(alice.get(uid))),
            "state": attempt(
                lambda: attributes_by_name(alice.get_attributes(uid, ["State"])[1])["State"]
            ),
            "locate_by_name": attempt(lambda: by_name(alice, name)),
        }

    with root:
        out["root"] = {
            "get": attempt(lambda: describe(root.get(uid))),
            "get_secret": attempt(lambda: describe(root.get(secret_uid))),
            "get_attributes": attempt(
                lambda: attributes_by_name(root.get_attributes(uid, ["State", "Name"])[1])
            ),
            "locate_by_name": attempt(lambda: by_name(root, name)),
            "activate": attempt(lambda: root.activate(uid)),
            "revoke": attempt(
                lambda: root.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
            ),
            "destroy": attempt(lambda: root.destroy(uid)),
            "destroy_secret": attempt(lambda: root.destroy(secret_uid)),
            "state_after_destroy": attempt(
                lambda: attributes_by_name(root.get_attributes(uid, ["State"])[1])["State"]
            ),
        }
    emit(out)


if __name__ == "__main__":
    main()
