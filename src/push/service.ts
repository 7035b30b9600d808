// Push to subscribers (KMIP 1.4 §5 Server-to-Client Operations): the changes the repository
// reports (src/objects/changes.ts) become Put and Notify messages, one queue per subscriber
// (src/push/subscriber.ts), delivered over mutual TLS with kmipd's own certificate as the
// client certificate. Opt-in: only the subscribers an administrator configured, each of which
// sees the objects of the owners listed for it (or every object with owners=*). Recording a
// change never fails and never waits: a message that cannot be built is logged and skipped.

import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { KmipConnection } from '../client/connection.js';
import type { ObjectChange } from '../objects/changes.js';
import { allowsClientAuth } from '../tls/diagnose.js';
import type { KmipVersion } from '../ttlv/spec/index.js';
import { messageFor, type Outcome } from './messages.js';
import {
  type Connector,
  DEFAULT_PUSH_LIMITS,
  Hold,
  type PushLimits,
  Subscriber,
} from './subscriber.js';

export interface PushSubscriberConfig {
  host: string;
  port: number;
  /** KMIP version of the messages, 1.0 to 1.4. */
  version: KmipVersion;
  /** Owners whose objects this subscriber receives; '*' for every object. */
  owners: '*' | readonly string[];
  /** CA certificates (PEM) the subscriber's server certificate must chain to. */
  ca: Buffer;
  /** Name checked in the subscriber's certificate; default the host. */
  servername?: string;
}

export interface PushConfig {
  subscribers: readonly PushSubscriberConfig[];
  /** Client certificate and key (PEM) kmipd presents to subscribers. */
  cert: Buffer;
  key: Buffer;
  limits?: Partial<PushLimits>;
  log: Logger;
}

interface Target {
  config: PushSubscriberConfig;
  queue: Subscriber;
}

export class PushService {
  private readonly targets: Target[];
  private readonly log: Logger;

  constructor(config: PushConfig) {
    this.log = config.log;
    const limits = { ...DEFAULT_PUSH_LIMITS, ...config.limits };
    this.targets = config.subscribers.map((s) => ({
      config: s,
      queue: new Subscriber({
        name: `${s.host}:${s.port}`,
        connect: tlsConnector(s, config, limits),
        log: config.log,
        limits,
      }),
    }));
    if (!hasClientAuth(config.cert)) {
      this.log.warn(
        'push: the push client certificate lacks the clientAuth extended key usage; subscribers ' +
          'that check it (OpenSSL-based ones, kmip conformance run) refuse it',
      );
    }
  }

  /** A hold for the changes of one batch that may yet be undone (src/push/subscriber.ts). */
  hold(): Hold {
    return new Hold();
  }

  /** Ends a hold: its messages are sent (kept) or forgotten (undone). */
  settle(hold: Hold, kept: boolean): void {
    hold.state = kept ? 'released' : 'cancelled';
    for (const t of this.targets) t.queue.poke();
  }

  /** Queues the messages CHANGE makes for each subscriber that may see it. */
  record(change: ObjectChange, hold?: Hold): void {
    const owner = change.kind === 'changed' ? change.owner : change.object.owner;
    const uid = change.kind === 'changed' ? change.uid : change.object.uid;
    const byVersion = new Map<KmipVersion, Outcome>();
    try {
      for (const t of this.targets) {
        const owners = t.config.owners;
        if (owners !== '*' && !owners.includes(owner)) continue;
        const v = t.config.version;
        if (!byVersion.has(v)) byVersion.set(v, messageFor(change, v));
        const outcome = byVersion.get(v);
        if (outcome === undefined) continue;
        if ('skip' in outcome) {
          this.log.info(
            { subscriber: t.queue.name, uid, operation: 'Put', reason: outcome.skip },
            'push: message not sent',
          );
          continue;
        }
        t.queue.enqueue({ ...outcome, frame: Buffer.from(outcome.frame), hold });
      }
    } catch (err) {
      this.log.error(
        { uid, change: change.kind, error: (err as Error).name },
        'push: message could not be built; not sent',
      );
    } finally {
      for (const o of byVersion.values()) if (o !== undefined && 'frame' in o) o.frame.fill(0);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.queue.close()));
  }
}

function tlsConnector(s: PushSubscriberConfig, config: PushConfig, limits: PushLimits): Connector {
  return () =>
    KmipConnection.open({
      host: s.host,
      port: s.port,
      cert: config.cert,
      key: config.key,
      ca: s.ca,
      servername: s.servername,
      connectTimeoutMs: limits.connectTimeoutMs,
      requestTimeoutMs: limits.responseTimeoutMs,
      maxResponseBytes: limits.maxResponseBytes,
    });
}

/** Whether a PEM certificate may authenticate a TLS client; an unreadable one is TLS's to refuse. */
function hasClientAuth(pem: Buffer): boolean {
  try {
    return allowsClientAuth(new X509Certificate(pem));
  } catch {
    return true;
  }
}
