// Finds and parses conformance test-case files (KMIP Profiles 2.1 §4; FORMAT.md §1-§2).

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { KmipError } from '../errors.js';
import { ItemType, type NumberItem, type TtlvItem } from '../ttlv/item.js';
import { Tag } from '../ttlv/spec/generated.js';
import { conformanceXmlText, xmlToTtlvItems } from '../ttlv/xml.js';
import { HarnessError, type MessageTemplate, SentinelTable } from './placeholders.js';

export interface Step {
  /** 0-based position of the pair in the file. */
  index: number;
  request: MessageTemplate;
  response: MessageTemplate;
}

export interface TestCase {
  /** File name without `.xml`, e.g. `SKLC-M-2-21`. */
  id: string;
  path: string;
  /** Profile prefix: the name before `-M-`/`-O-`, or a TC note's name before `-<n>-<MajMin>`. */
  profile: string;
  /** `1.4`, `2.1`, … from the final `-<MajMin>`. */
  version: string;
  steps: Step[];
  /** Upstream errors corrected before the run, with the reason (FORMAT.md §9). */
  waivers: string[];
}

/**
 * Every `*.xml` under the given files and directories, recursively, sorted by path, except that
 * the Test Cases notes' fixture files run first and their clean-up files last: `TC-OTP-SETUP-*`
 * registers the objects that `TC-OTP-1..5` locate and `TC-OTP-CLEANUP-*` destroys them
 * (FORMAT.md §2).
 */
export async function findCaseFiles(paths: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  const visit = async (p: string): Promise<void> => {
    const s = await stat(p);
    if (s.isDirectory()) {
      const entries = await readdir(p);
      await Promise.all(entries.map((e) => visit(join(p, e))));
    } else if (p.endsWith('.xml')) {
      found.add(p);
    }
  };
  for (const p of paths) await visit(p);
  const stage = (p: string) =>
    /-SETUP-/.test(caseIdOf(p)) ? 0 : /-CLEANUP-/.test(caseIdOf(p)) ? 2 : 1;
  return [...found].sort((a, b) => stage(a) - stage(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export function caseIdOf(path: string): string {
  return basename(path).replace(/\.xml$/, '');
}

export function profileOf(id: string): string {
  const m = /^(.*?)-[MO]-/.exec(id) ?? /^(.*)-\d+-\d+$/.exec(id);
  return m?.[1] ?? id;
}

export function versionOf(id: string): string {
  const m = /-(\d)(\d)$/.exec(id);
  return m === null ? '?' : `${m[1]}.${m[2]}`;
}

export async function loadCase(path: string): Promise<TestCase> {
  return parseCase(path, await readFile(path, 'utf8'));
}

/** Parses a test case; a file that breaks the format is a HarnessError naming the place. */
export function parseCase(path: string, text: string): TestCase {
  const id = caseIdOf(path);
  const sentinels = new SentinelTable();
  let messages: TtlvItem[];
  try {
    // FORMAT.md §2: `#` annotation lines and anything after the root element are dropped.
    messages = xmlToTtlvItems(conformanceXmlText(text), { placeholders: sentinels.resolver });
  } catch (err) {
    if (err instanceof KmipError) throw new HarnessError(`${id}: ${err.describe()}`);
    throw err;
  }
  const steps: Step[] = [];
  for (let i = 0; i < messages.length; i += 2) {
    const request = messages[i]!;
    const response = messages[i + 1];
    if (request.tag !== Tag.RequestMessage || response?.tag !== Tag.ResponseMessage) {
      throw new HarnessError(`${id}: message ${i} and ${i + 1} are not a request-response pair`);
    }
    steps.push({
      index: i / 2,
      request: sentinels.template(request),
      response: sentinels.template(response),
    });
  }
  const tc: TestCase = {
    id,
    path,
    profile: profileOf(id),
    version: versionOf(id),
    steps,
    waivers: [],
  };
  WAIVERS[id]?.(tc);
  return tc;
}

/**
 * Per-case corrections of upstream typos, each with its reason (FORMAT.md §9). A waiver changes
 * the expected response only where the published file contradicts the specification.
 */
const WAIVERS: Record<string, (tc: TestCase) => void> = {
  // One response of OMOS-O-1-14 says protocol version 1.3 to a 1.4 request; a server answers in
  // the request's version (KMIP 1.4 §6.1 Protocol Version), as every other pair in the corpus.
  'OMOS-O-1-14': (tc) => {
    for (const step of tc.steps) {
      const want = protocolVersion(step.request.item);
      const got = protocolVersion(step.response.item);
      if (want === undefined || got === undefined) continue;
      if (got.minor.value !== want.minor.value || got.major.value !== want.major.value) {
        tc.waivers.push(
          `step ${step.index}: expected response protocol version ${got.major.value}.${got.minor.value} ` +
            `corrected to ${want.major.value}.${want.minor.value} (upstream typo)`,
        );
        got.major.value = want.major.value;
        got.minor.value = want.minor.value;
      }
    }
  },
};

type IntItem = NumberItem;

function protocolVersion(message: TtlvItem): { major: IntItem; minor: IntItem } | undefined {
  const header = childOf(message, Tag.RequestHeader) ?? childOf(message, Tag.ResponseHeader);
  const pv = header === undefined ? undefined : childOf(header, Tag.ProtocolVersion);
  const major = pv === undefined ? undefined : childOf(pv, Tag.ProtocolVersionMajor);
  const minor = pv === undefined ? undefined : childOf(pv, Tag.ProtocolVersionMinor);
  if (major?.type !== ItemType.Integer || minor?.type !== ItemType.Integer) return undefined;
  return { major: major as IntItem, minor: minor as IntItem };
}

export function childOf(item: TtlvItem, tag: number): TtlvItem | undefined {
  return item.type === ItemType.Structure ? item.value.find((c) => c.tag === tag) : undefined;
}

export function childrenOf(item: TtlvItem, tag: number): TtlvItem[] {
  return item.type === ItemType.Structure ? item.value.filter((c) => c.tag === tag) : [];
}
