// Body of the SQLite writer thread: its own connection to the database and a SqliteWriter
// on it. Each message from the store is one write; the reply carries its result or error.
// Writes that arrive while a COMMIT (and its fsync) runs here join the next group commit.

import { parentPort, workerData } from 'node:worker_threads';
import type { StoredObject } from './object-store.js';
import { openConnection, SqliteWriter } from './sqlite-writer.js';
import {
  serializeError,
  type WriterReply,
  type WriterRequest,
  type WriterSetup,
} from './sqlite-writer-thread.js';

const port = parentPort!;
const setup = workerData as WriterSetup;

/** Structured clone turns Buffers into Uint8Arrays; views over the same memory restore them. */
function buffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function revive(obj: StoredObject): StoredObject {
  const m = obj.material;
  return {
    ...obj,
    attributes: buffer(obj.attributes),
    material: m === null ? null : { ...m, blob: buffer(m.blob) },
  };
}

function reply(message: WriterReply): void {
  port.postMessage(message);
}

try {
  const db = openConnection(setup.file, setup.busyTimeoutMs);
  const writer = new SqliteWriter(db, setup.busyTimeoutMs);
  const perform = (req: WriterRequest): Promise<unknown> => {
    switch (req.op) {
      case 'insert':
        return writer.insert(revive(req.obj));
      case 'insertBatch':
        return writer.insertBatch(req.objs.map(revive));
      case 'update':
        return writer.update(revive(req.obj), req.expectedRevision);
      case 'replace':
        return writer.replace(revive(req.obj), req.expectedRevision);
      case 'remove':
        return writer.remove(req.uid);
      case 'putSetting':
        return writer.putSetting(req.name, req.value === undefined ? undefined : buffer(req.value));
      case 'close':
        return writer.close().finally(() => db.close());
    }
  };
  port.on('message', (req: WriterRequest) => {
    // A write that throws before it is queued fails alone, not the thread.
    Promise.resolve()
      .then(() => perform(req))
      .then(
        (value) => reply({ id: req.id, ok: true, value }),
        (err: unknown) => reply({ id: req.id, ok: false, error: serializeError(err) }),
      );
  });
  reply({ id: 0, ok: true, value: 'ready' });
} catch (err) {
  reply({ id: 0, ok: false, error: serializeError(err) });
}
