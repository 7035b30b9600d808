"""PyKMIP's client against two kmipd nodes sharing one PostgreSQL database
(test/e2e/postgres-nodes.test.ts).

Records, for the test to assert: a key created on node A as Get and Locate see it on node B;
the uids of 20 Creates run at once, half on each node; a batch Create, Activate, Get with the
ID Placeholder on each node.
"""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "e2e", "py"))

from kmip import enums  # noqa: E402
from kmip.core import objects as core_objects  # noqa: E402
from kmip.core.factories import attributes as attribute_factories  # noqa: E402
from kmip.core.messages import payloads  # noqa: E402

from kmipd_e2e import attempt, describe, emit, load_input, pie, proxy  # noqa: E402
from pykmip_batch import item, send  # noqa: E402

FACTORY = attribute_factories.AttributeFactory()


def node(cfg, name):
    return dict(cfg, port=cfg["ports"][name])


def cross_node(cfg):
    a = pie(node(cfg, "a"), cfg["identity"])
    b = pie(node(cfg, "b"), cfg["identity"])
    a.open()
    b.open()
    try:
        uid = a.create(enums.CryptographicAlgorithm.AES, 256, name=cfg["name"])
        name = FACTORY.create_attribute(enums.AttributeType.NAME, cfg["name"])
        return {
            "uid": uid,
            "on_a": attempt(lambda: describe(a.get(uid))),
            "on_b": attempt(lambda: describe(b.get(uid))),
            "located_on_b": attempt(lambda: b.locate(attributes=[name])),
        }
    finally:
        a.close()
        b.close()


def concurrent_creates(cfg, count):
    results = [None] * count

    def one(i):
        c = pie(node(cfg, "a" if i % 2 == 0 else "b"), cfg["identity"])
        c.open()
        try:
            results[i] = attempt(lambda: c.create(enums.CryptographicAlgorithm.AES, 128))
        finally:
            c.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def placeholder_batch(cfg, which):
    template = core_objects.TemplateAttribute(
        attributes=[
            FACTORY.create_attribute(
                enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM, enums.CryptographicAlgorithm.AES
            ),
            FACTORY.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 256),
        ]
    )
    p = proxy(node(cfg, which), cfg["identity"], "1.2")
    p.open()
    try:
        items = [
            item(
                enums.Operation.CREATE,
                payloads.CreateRequestPayload(enums.ObjectType.SYMMETRIC_KEY, template),
                1,
            ),
            item(enums.Operation.ACTIVATE, payloads.ActivateRequestPayload(), 2),
            item(enums.Operation.GET, payloads.GetRequestPayload(), 3),
        ]
        return attempt(lambda: send(p, items))
    finally:
        p.close()


def main():
    cfg = load_input()
    emit(
        {
            "cross": cross_node(cfg),
            "creates": concurrent_creates(cfg, cfg["creates"]),
            "batch_a": placeholder_batch(cfg, "a"),
            "batch_b": placeholder_batch(cfg, "b"),
        }
    )


if __name__ == "__main__":
    main()
