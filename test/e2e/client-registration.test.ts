// The Client Registration Methods kmipd's Query claims, end to end through the real `kmipd`:
// Server On-Demand (`kmipd pki client NAME` issues a client from the running server's CA) and
// Client Registered (`kmipd serve --client-cert FILE`).

import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { item } from '../../src/kmip/items.js';
import { FrameSplitter } from '../../src/ttlv/frame-splitter.js';
import {
  ClientRegistrationMethod,
  Operation,
  QueryFunction,
  ResultStatus,
  Tag,
} from '../../src/ttlv/spec/generated.js';
import { payloadOf, readResponse, requestBytes } from '../helpers/kmip-test-client.js';
import { type KmipdProcess, runKmipd, startKmipdProcess } from '../helpers/kmipd-process.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

let kmipd: KmipdProcess;
let dir: string;
let registeredPair: { cert: string; key: string };

beforeAll(async () => {
  const out = await generate([{ name: 'commonName', value: 'selfmade' }], {
    keyType: 'ec',
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  registeredPair = { cert: out.cert, key: out.private };
  dir = await mkdtemp(join(tmpdir(), 'kmipd-creg-'));
  const file = join(dir, 'selfmade.crt');
  await writeFile(file, out.cert);
  kmipd = await startKmipdProcess({ args: ['--client-cert', file] });
});

afterAll(async () => {
  await kmipd?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Sends one request; the first response's batch item, or undefined when the server closes. */
async function ask(client: { cert: string | Buffer; key: string | Buffer }, request: Buffer) {
  const ca = await readFile(kmipd.ca);
  return new Promise<ReturnType<typeof readResponse>['batchItems'][number] | undefined>(
    (resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: kmipd.port,
        servername: 'localhost',
        ca,
        ...client,
      });
      const splitter = new FrameSplitter();
      socket.on('data', (chunk: Buffer) => {
        const [frame] = splitter.push(chunk);
        if (frame === undefined) return;
        socket.destroy();
        resolve(readResponse(frame).batchItems[0]);
      });
      socket.once('error', () => resolve(undefined));
      socket.once('close', () => resolve(undefined));
      socket.once('secureConnect', () => socket.write(request));
    },
  );
}

const discover = () => requestBytes('1.2', [{ operation: Operation.DiscoverVersions }]);

describe('kmipd pki client (Server On-Demand)', () => {
  it('issues a clientAuth certificate from the data directory CA that the running server accepts', async () => {
    const run = await runKmipd(['pki', 'client', 'carol', '--data-dir', kmipd.dataDir]);
    expect(run.code, run.stderr).toBe(0);
    const pair = kmipd.client('carol');
    const cert = new X509Certificate(await readFile(pair.cert));
    const ca = new X509Certificate(await readFile(kmipd.ca));
    expect(cert.subject).toBe('CN=carol');
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toContain(CLIENT_AUTH);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(new Date(cert.validTo) <= new Date(ca.validTo)).toBe(true);
    expect((await stat(pair.key)).mode & 0o777).toBe(0o600);
    const answer = await ask(
      { cert: await readFile(pair.cert), key: await readFile(pair.key) },
      discover(),
    );
    expect(answer?.resultStatus).toBe(ResultStatus.Success);
  });

  it('keeps an existing client unless --force, and refuses names that are not file names', async () => {
    const before = await readFile(kmipd.client('admin').cert, 'utf8');
    const again = await runKmipd(['pki', 'client', 'admin', '--dir', kmipd.pkiDir]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists.*force/);
    expect(await readFile(kmipd.client('admin').cert, 'utf8')).toBe(before);
    const bad = await runKmipd(['pki', 'client', '../x', '--dir', kmipd.pkiDir]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/not allowed/);
  });
});

describe('kmipd serve --client-cert (Client Registered)', () => {
  it('serves the registered self-signed client and refuses an unregistered one', async () => {
    expect((await ask(registeredPair, discover()))?.resultStatus).toBe(ResultStatus.Success);
    const other = await generate([{ name: 'commonName', value: 'selfmade' }], {
      keyType: 'ec',
      extensions: [{ name: 'extKeyUsage', clientAuth: true }],
    });
    expect(await ask({ cert: other.cert, key: other.private }, discover())).toBeUndefined();
    const refused = kmipd.logs().find((l) => /neither signed by a CA/.test(l.msg));
    expect(refused?.cause).toBe('client-certificate-unknown-issuer');
  });

  it('answers Query Client Registration Methods with all four methods', async () => {
    const answer = await ask(
      registeredPair,
      requestBytes('1.4', [
        {
          operation: Operation.Query,
          payload: [item.enum(Tag.QueryFunction, QueryFunction.QueryClientRegistrationMethods)],
        },
      ]),
    );
    expect(answer?.resultStatus).toBe(ResultStatus.Success);
    const methods = payloadOf(answer)
      .filter((i) => i.tag === Tag.ClientRegistrationMethod)
      .map((i) => i.value);
    expect(methods).toEqual([
      ClientRegistrationMethod.ServerPreGenerated,
      ClientRegistrationMethod.ServerOnDemand,
      ClientRegistrationMethod.ClientGenerated,
      ClientRegistrationMethod.ClientRegistered,
    ]);
  });
});
