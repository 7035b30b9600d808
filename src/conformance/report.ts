// Run summaries: the per-profile table and totals line for the terminal, the JSON report
// (every case with its result and first mismatch) and a JUnit XML file for CI.

import type { CaseResult, CaseStatus } from './runner.js';

export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
}

export interface ProfileSummary extends Totals {
  /** Profile prefix and protocol version, e.g. `SKLC 2.1`. */
  profile: string;
  /** Skip reasons with the number of cases each. */
  skipReasons: Record<string, number>;
}

export function totalsOf(results: readonly CaseResult[]): Totals {
  const t: Totals = { passed: 0, failed: 0, skipped: 0 };
  for (const r of results) t[r.status]++;
  return t;
}

/** The last line of a run's stdout. */
export function totalsLine(t: Totals): string {
  return `${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`;
}

export function profileSummaries(results: readonly CaseResult[]): ProfileSummary[] {
  const by = new Map<string, ProfileSummary>();
  for (const r of results) {
    const key = `${r.profile} ${r.version}`;
    let s = by.get(key);
    if (s === undefined) {
      s = { profile: key, passed: 0, failed: 0, skipped: 0, skipReasons: {} };
      by.set(key, s);
    }
    s[r.status]++;
    if (r.status === 'skipped' && r.reason !== undefined) {
      s.skipReasons[r.reason] = (s.skipReasons[r.reason] ?? 0) + 1;
    }
  }
  return [...by.values()].sort((a, b) => a.profile.localeCompare(b.profile));
}

export function summaryTable(results: readonly CaseResult[]): string {
  const rows = profileSummaries(results);
  const head = ['profile', 'passed', 'failed', 'skipped', 'skip reasons'];
  const body = rows.map((r) => [
    r.profile,
    String(r.passed),
    String(r.failed),
    String(r.skipped),
    Object.entries(r.skipReasons)
      .map(([reason, n]) => `${n}× ${reason}`)
      .join('; '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** One line for a finished case, for non-interactive progress output. */
export function caseLine(r: CaseResult): string {
  const label: Record<CaseStatus, string> = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' };
  const tail = r.reason === undefined ? '' : `  ${r.reason}`;
  return `${label[r.status]} ${r.id}${tail}`;
}

export interface JsonReport {
  server: string;
  started: string;
  finished: string;
  options: {
    skipInterop: boolean;
    encoding: string;
    transport?: string;
    /** HOST:PORT of the HTTPS port used for the MSGENC cases. */
    httpsServer?: string | undefined;
  };
  totals: Totals;
  profiles: ProfileSummary[];
  cases: CaseResult[];
}

export function jsonReport(
  results: readonly CaseResult[],
  meta: Omit<JsonReport, 'totals' | 'profiles' | 'cases'>,
): JsonReport {
  return {
    ...meta,
    totals: totalsOf(results),
    profiles: profileSummaries(results),
    cases: [...results],
  };
}

/** JUnit XML: one test suite per profile, one test case per file. */
export function junitReport(results: readonly CaseResult[]): string {
  const suites = new Map<string, CaseResult[]>();
  for (const r of results) {
    const key = `${r.profile} ${r.version}`;
    suites.set(key, [...(suites.get(key) ?? []), r]);
  }
  const t = totalsOf(results);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kmip conformance" tests="${results.length}" failures="${t.failed}" skipped="${t.skipped}">`,
  ];
  for (const [name, cases] of [...suites].sort(([a], [b]) => a.localeCompare(b))) {
    const st = totalsOf(cases);
    const time = cases.reduce((s, c) => s + c.durationMs, 0) / 1000;
    out.push(
      `  <testsuite name="${esc(name)}" tests="${cases.length}" failures="${st.failed}" skipped="${st.skipped}" time="${time.toFixed(3)}">`,
    );
    for (const c of cases) {
      const open = `    <testcase classname="${esc(name)}" name="${esc(c.id)}" time="${(c.durationMs / 1000).toFixed(3)}"`;
      if (c.status === 'passed') {
        out.push(`${open}/>`);
      } else if (c.status === 'skipped') {
        out.push(`${open}><skipped message="${esc(c.reason ?? '')}"/></testcase>`);
      } else {
        const detail = c.mismatch
          ? [
              `path: ${c.mismatch.path}`,
              `expected: ${c.mismatch.expected ?? '(nothing)'}`,
              `actual: ${c.mismatch.actual ?? '(nothing)'}`,
            ].join('\n')
          : '';
        out.push(
          `${open}><failure message="${esc(c.reason ?? '')}">${esc(detail)}</failure></testcase>`,
        );
      }
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;',
  );
}
