// `kmip ttlv`: convert one KMIP message between binary TTLV (hex or raw bytes) and the text
// forms: the XML and JSON encodings of KMIP Profiles 2.1 §5.4.1 and §5.5.1, and the pretty tree.
// Binary -> XML or JSON -> binary gives back the identical bytes.

import type { Argv, CommandModule } from 'yargs';
import { invalidMessage } from '../../errors.js';
import { decodeTtlv, encodeTtlv } from '../../ttlv/binary.js';
import { jsonTextToTtlv, ttlvToJson } from '../../ttlv/json.js';
import { DEFAULT_LIMITS } from '../../ttlv/limits.js';
import { formatTtlv } from '../../ttlv/pretty.js';
import { ttlvToXml, xmlToTtlv } from '../../ttlv/xml.js';

/**
 * Reads stdin whole, refusing more than a few times the largest message the decoder accepts
 * (hex and XML are wordier than binary), so a runaway pipe cannot exhaust memory.
 */
async function readStdin(): Promise<Buffer> {
  const cap = DEFAULT_LIMITS.maxMessageBytes * 16;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > cap) throw invalidMessage(`input exceeds ${cap} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Hex input: whitespace, `|` separators, `0x` prefixes and `#` comments (the pretty-hex form of
 * the test vectors) are ignored.
 */
export function parseHexInput(text: string): Buffer {
  const digits = text
    .replace(/#[^\n]*/g, '')
    .replace(/0x/gi, '')
    .replace(/[\s|]+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) {
    throw invalidMessage('input is not an even number of hex digits');
  }
  return Buffer.from(digits, 'hex');
}

interface DecodeArgs {
  in: 'hex' | 'bin';
  out: 'text' | 'json' | 'xml';
  'reveal-key-material': boolean;
}

interface EncodeArgs {
  from: 'json' | 'xml';
  out: 'hex' | 'bin';
}

const decode: CommandModule<object, DecodeArgs> = {
  command: 'decode',
  describe: 'Decode one binary TTLV message from stdin',
  builder: (y: Argv) =>
    y
      .option('in', {
        choices: ['hex', 'bin'] as const,
        default: 'hex' as const,
        describe: 'stdin holds hex digits (spaces, | and # comments ignored) or raw bytes',
      })
      .option('out', {
        choices: ['text', 'json', 'xml'] as const,
        default: 'text' as const,
        describe: 'print an indented tree, the KMIP JSON encoding or the KMIP XML encoding',
      })
      .option('reveal-key-material', {
        type: 'boolean',
        default: false,
        describe: 'with --out text, print key material and passwords instead of their length',
      })
      .example('$0 ttlv decode --out xml < request.hex', 'show a request as KMIP XML'),
  handler: async (args) => {
    const input = await readStdin();
    const bytes = args.in === 'hex' ? parseHexInput(input.toString('latin1')) : input;
    const item = decodeTtlv(bytes);
    let text: string;
    if (args.out === 'json') text = `${JSON.stringify(ttlvToJson(item), null, 2)}\n`;
    else if (args.out === 'xml') text = ttlvToXml(item);
    else text = `${formatTtlv(item, { revealKeyMaterial: args['reveal-key-material'] })}\n`;
    process.stdout.write(text);
  },
};

const encode: CommandModule<object, EncodeArgs> = {
  command: 'encode',
  describe: 'Encode one message in KMIP JSON or XML from stdin as binary TTLV',
  builder: (y: Argv) =>
    y
      .option('from', {
        choices: ['json', 'xml'] as const,
        demandOption: true,
        describe: 'the encoding of stdin (KMIP Profiles §5.5.1 JSON or §5.4.1 XML)',
      })
      .option('out', {
        choices: ['hex', 'bin'] as const,
        default: 'hex' as const,
        describe: 'print hex digits or write raw bytes',
      })
      .example('$0 ttlv encode --from xml --out bin < request.xml > request.ttlv', ''),
  handler: async (args) => {
    const text = (await readStdin()).toString('utf8');
    const item = args.from === 'json' ? jsonTextToTtlv(text) : xmlToTtlv(text);
    const bytes = encodeTtlv(item);
    process.stdout.write(args.out === 'bin' ? bytes : `${bytes.toString('hex')}\n`);
  },
};

export const ttlvCommand: CommandModule = {
  command: 'ttlv <command>',
  describe: 'Convert KMIP messages between binary TTLV, JSON, XML and a readable tree',
  builder: (y: Argv) =>
    y
      .command(decode as unknown as CommandModule)
      .command(encode as unknown as CommandModule)
      .demandCommand(1, 'name a ttlv command: decode or encode'),
  handler: () => {},
};
