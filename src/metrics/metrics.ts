// Prometheus metrics of one kmipd process, served on the admin port (admin-server.ts):
//   kmipd_operations_total{operation,result}          batch items answered; result is Success
//                                                      or the Result Reason name
//   kmipd_operation_duration_seconds{operation}       time from the handler's start to its answer
//   kmipd_open_connections                            TCP connections open (handshaking included)
//   kmipd_store_operation_duration_seconds{method,outcome}  ObjectStore calls
// plus prom-client's process and Node.js metrics. Labels hold operation and method names only,
// never identities or unique identifiers, so their number stays bounded.

import { performance } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { OperationHooks } from '../server/faults.js';
import type { ObjectStore } from '../store/object-store.js';

/** Seconds; KMIP operations run from tens of microseconds (memory store) to seconds (HSM). */
const OPERATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
const STORE_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1,
];

export class KmipdMetrics {
  readonly registry = new Registry();
  readonly #operations: Counter<'operation' | 'result'>;
  readonly #duration: Histogram<'operation'>;
  readonly #store: Histogram<'method' | 'outcome'>;
  #connections: () => number = () => 0;

  constructor() {
    const registers = [this.registry];
    this.#operations = new Counter({
      name: 'kmipd_operations_total',
      help: 'KMIP batch items answered, by operation and result (Success or the Result Reason)',
      labelNames: ['operation', 'result'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'kmipd_operation_duration_seconds',
      help: 'Time to answer one KMIP batch item, by operation',
      labelNames: ['operation'],
      buckets: OPERATION_BUCKETS,
      registers,
    });
    this.#store = new Histogram({
      name: 'kmipd_store_operation_duration_seconds',
      help: 'Time of object store calls, by method and outcome (ok or error)',
      labelNames: ['method', 'outcome'],
      buckets: STORE_BUCKETS,
      registers,
    });
    const self = this;
    new Gauge({
      name: 'kmipd_open_connections',
      help: 'Open KMIP TCP connections, TLS handshakes in progress included',
      registers,
      collect() {
        this.set(self.#connections());
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'kmipd_' });
  }

  /** Where the open connection count comes from (the TLS server, once it listens). */
  watchConnections(count: () => number): void {
    this.#connections = count;
  }

  hooks(): OperationHooks {
    return {
      after: (operation, result, seconds) => {
        this.#operations.inc({ operation, result });
        this.#duration.observe({ operation }, seconds);
      },
    };
  }

  /** The store with every method call timed. */
  instrumentStore(store: ObjectStore): ObjectStore {
    const histogram = this.#store;
    return new Proxy(store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        return async (...args: unknown[]) => {
          const started = performance.now();
          let outcome = 'error';
          try {
            const result = await value.apply(target, args);
            outcome = 'ok';
            return result;
          } finally {
            histogram.observe({ method: prop, outcome }, (performance.now() - started) / 1000);
          }
        };
      },
    });
  }
}
