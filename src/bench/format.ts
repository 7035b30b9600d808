// Plain-text rendering of a load run for the terminal.

import type { ProgressSample } from './runner.js';
import type { BenchReport } from './stats.js';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
    )
    .join('\n');
}

export function progressLine(s: ProgressSample): string {
  return `[${String(s.second).padStart(3)}s] ${s.opsPerSec} ops/s, ${s.errors} errors, client CPU ${s.clientCpuPct}%`;
}

export function summary(r: BenchReport): string {
  const rows = [['operation', 'ok', 'ops/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors']];
  for (const [name, o] of Object.entries(r.operations)) {
    rows.push([
      name,
      String(o.count),
      o.per_sec.toFixed(1),
      o.p50_ms.toFixed(3),
      o.p90_ms.toFixed(3),
      o.p99_ms.toFixed(3),
      o.max_ms.toFixed(3),
      String(o.errors),
    ]);
  }
  const lines = [
    `${r.workload} against ${r.server}: KMIP ${r.kmip_version}, ${r.tls_protocol}, ` +
      `${r.connections} connection(s)${r.new_connection_per_op ? ', new connection per operation' : ''}, ` +
      `${r.duration_s} s measured`,
    '',
    table(rows),
    '',
    `total ${r.ops_per_sec} ops/s` +
      (r.cycles_per_sec === null ? '' : `, ${r.cycles_per_sec} cycles/s`) +
      `, ${r.errors} errors, client CPU ${r.client_cpu_pct}% of one core`,
  ];
  for (const [reason, n] of Object.entries(r.errors_by_reason)) {
    const message = r.error_messages[reason];
    lines.push(`  ${reason}: ${n}${message === undefined ? '' : ` (${message})`}`);
  }
  return lines.join('\n');
}
