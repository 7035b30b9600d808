// What a load run counts. Only successful operations are throughput and only their latencies
// enter the histograms; failures are counted per operation under their Result Reason (or a
// transport reason), so a server that answers quickly with errors cannot look fast.

import { LatencyHistogram } from './histogram.js';

export class OperationStats {
  ok = 0;
  readonly latency = new LatencyHistogram();
  readonly errors = new Map<string, number>();
  /** The first message seen for each reason, to tell the user what went wrong. */
  readonly messages = new Map<string, string>();

  success(micros: number): void {
    this.ok++;
    this.latency.record(micros);
  }

  failure(reason: string, message?: string): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
    if (message !== undefined && !this.messages.has(reason)) this.messages.set(reason, message);
  }

  get errorCount(): number {
    let n = 0;
    for (const c of this.errors.values()) n += c;
    return n;
  }
}

export interface OperationReport {
  count: number;
  per_sec: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  errors: number;
  errors_by_reason: Record<string, number>;
}

export interface BenchReport {
  server: string;
  workload: string;
  kmip_version: string;
  connections: number;
  new_connection_per_op: boolean;
  tls_protocol: string;
  duration_s: number;
  /** Successful operations per second, all operations together. */
  ops_per_sec: number;
  /** Whole scenario iterations (e.g. create+get+destroy) per second; null for a mix. */
  cycles_per_sec: number | null;
  /** Failed operations, all reasons. */
  errors: number;
  errors_by_reason: Record<string, number>;
  /** First message the server gave for each reason. */
  error_messages: Record<string, string>;
  /** The generator's own CPU time over the run, in percent of one core. */
  client_cpu_pct: number;
  operations: Record<string, OperationReport>;
}

const ms = (micros: number) => Math.round(micros) / 1000;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export class RunStats {
  readonly operations = new Map<string, OperationStats>();
  cycles = 0;

  constructor(operationNames: readonly string[]) {
    for (const name of operationNames) this.operations.set(name, new OperationStats());
  }

  op(name: string): OperationStats {
    let s = this.operations.get(name);
    if (s === undefined) {
      s = new OperationStats();
      this.operations.set(name, s);
    }
    return s;
  }

  get ok(): number {
    let n = 0;
    for (const s of this.operations.values()) n += s.ok;
    return n;
  }

  get errorCount(): number {
    let n = 0;
    for (const s of this.operations.values()) n += s.errorCount;
    return n;
  }

  report(
    seconds: number,
    cpuMicros: number,
    meta: Omit<
      BenchReport,
      | 'duration_s'
      | 'ops_per_sec'
      | 'cycles_per_sec'
      | 'errors'
      | 'errors_by_reason'
      | 'error_messages'
      | 'client_cpu_pct'
      | 'operations'
    > & { countsCycles: boolean },
  ): BenchReport {
    const { countsCycles, ...rest } = meta;
    const operations: Record<string, OperationReport> = {};
    const byReason: Record<string, number> = {};
    const messages: Record<string, string> = {};
    for (const [name, s] of this.operations) {
      const reasons = Object.fromEntries(s.errors);
      for (const [r, n] of s.errors) byReason[r] = (byReason[r] ?? 0) + n;
      for (const [r, m] of s.messages) messages[r] ??= m;
      operations[name] = {
        count: s.ok,
        per_sec: round(s.ok / seconds),
        p50_ms: ms(s.latency.percentile(50)),
        p90_ms: ms(s.latency.percentile(90)),
        p99_ms: ms(s.latency.percentile(99)),
        max_ms: ms(s.latency.max),
        mean_ms: ms(s.latency.mean),
        errors: s.errorCount,
        errors_by_reason: reasons,
      };
    }
    return {
      ...rest,
      duration_s: round(seconds, 3),
      ops_per_sec: round(this.ok / seconds),
      cycles_per_sec: countsCycles ? round(this.cycles / seconds) : null,
      errors: this.errorCount,
      errors_by_reason: byReason,
      error_messages: messages,
      client_cpu_pct: round((cpuMicros / (seconds * 1e6)) * 100),
      operations,
    };
  }
}
