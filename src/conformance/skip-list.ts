// Skip lists: cases not to run, each with the reason. One case per line, `CASE-ID  reason`;
// `*` in an identifier matches any text; `#` at the start of a line or after a space starts a comment; blank lines are ignored. A
// listed case is reported as skipped with its reason and never as passed (FORMAT.md §5 step 6).

import { readFile } from 'node:fs/promises';

export interface SkipEntry {
  pattern: string;
  reason: string;
}

export class SkipList {
  private readonly exact = new Map<string, string>();
  private readonly globs: { re: RegExp; reason: string }[] = [];

  constructor(readonly entries: readonly SkipEntry[]) {
    for (const e of entries) {
      if (e.pattern.includes('*')) {
        const source = e.pattern.split('*').map(escapeRegExp).join('.*');
        this.globs.push({ re: new RegExp(`^${source}$`), reason: e.reason });
      } else {
        this.exact.set(e.pattern, e.reason);
      }
    }
  }

  reasonFor(id: string): string | undefined {
    return this.exact.get(id) ?? this.globs.find((g) => g.re.test(id))?.reason;
  }

  static parse(text: string, source = 'skip list'): SkipList {
    const entries: SkipEntry[] = [];
    for (const [i, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.replace(/(^|\s)#.*/, '').trim();
      if (line === '') continue;
      const m = /^(\S+)\s+(.+)$/.exec(line);
      if (m === null) throw new Error(`${source} line ${i + 1}: a case needs a reason`);
      entries.push({ pattern: m[1]!, reason: m[2]!.trim() });
    }
    return new SkipList(entries);
  }

  static async load(path: string): Promise<SkipList> {
    return SkipList.parse(await readFile(path, 'utf8'), path);
  }

  static merge(lists: readonly SkipList[]): SkipList {
    return new SkipList(lists.flatMap((l) => l.entries));
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
