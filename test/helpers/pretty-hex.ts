// Pretty-hex: the readable form of TTLV golden vectors and captured frames.
//
//   # KMIP 1.4 §9.1.2 Examples: a Structure
//   420020 | 01 | 00000020
//     420004 | 05 | 00000004 | 000000fe 00000000
//
// Each line is tag | type | length, then for a primitive | value (the padded value bytes).
// Indentation shows nesting and, like whitespace inside a field, means nothing to the parser,
// which only concatenates the hex digits of every line. `#` starts a comment. The parser is
// deliberately independent of src/ttlv: a vector's bytes must not depend on the code it tests.

/** Concatenates the hex digits of every line; throws on anything that is not hex. */
export function parsePrettyHex(text: string): Buffer {
  let hex = '';
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    const code = line.replace(/#.*$/, '').replace(/[\s|]/g, '');
    if (code === '') continue;
    if (!/^[0-9a-fA-F]*$/.test(code)) {
      throw new Error(`pretty-hex line ${i + 1}: not hex: ${JSON.stringify(line.trim())}`);
    }
    if (code.length % 2 !== 0) {
      throw new Error(`pretty-hex line ${i + 1}: odd number of hex digits`);
    }
    hex += code;
  }
  return Buffer.from(hex, 'hex');
}

const STRUCTURE = 0x01;
const HEADER = 8;

/**
 * Writes TTLV bytes as pretty-hex, one item per line, indented by nesting. Used to store frames
 * captured from a real client; it trusts only the header layout (3-byte tag, 1-byte type,
 * 4-byte length, padding to 8). Bytes that do not parse as TTLV are written as plain hex lines
 * under a `# unparsed` comment, so a malformed capture is kept as it was sent.
 */
export function toPrettyHex(bytes: Uint8Array, header: string[] = []): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = header.map((h) => `# ${h}`);
  const end = writeItems(buf, 0, buf.length, 0, out);
  if (end < buf.length) {
    out.push('# unparsed: the bytes below do not form a TTLV item');
    for (let i = end; i < buf.length; i += 16) {
      out.push(groups(buf.subarray(i, Math.min(i + 16, buf.length))));
    }
  }
  return `${out.join('\n')}\n`;
}

/** Writes items in [pos, end); returns where it stopped (end unless the bytes are malformed). */
function writeItems(buf: Buffer, pos: number, end: number, depth: number, out: string[]): number {
  while (pos < end) {
    if (end - pos < HEADER) return pos;
    const tag = buf.subarray(pos, pos + 3).toString('hex');
    const type = buf[pos + 3]!;
    const length = buf.readUInt32BE(pos + 4);
    const indent = '  '.repeat(depth);
    const head = `${indent}${tag} | ${hex2(type)} | ${length.toString(16).padStart(8, '0')}`;
    const valueStart = pos + HEADER;
    if (type === STRUCTURE) {
      if (length > end - valueStart) return pos;
      out.push(head);
      const stop = writeItems(buf, valueStart, valueStart + length, depth + 1, out);
      if (stop !== valueStart + length) {
        out.push(`${indent}  # unparsed: the rest of this structure`);
        out.push(`${indent}  ${groups(buf.subarray(stop, valueStart + length))}`);
      }
      pos = valueStart + length;
      continue;
    }
    const padded = (length + 7) & ~7;
    if (padded > end - valueStart) return pos;
    const value = groups(buf.subarray(valueStart, valueStart + padded));
    out.push(value === '' ? head : `${head} | ${value}`);
    pos = valueStart + padded;
  }
  return pos;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** Hex in groups of four bytes, the way the spec and the pretty-hex vectors show values. */
function groups(bytes: Buffer): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    parts.push(bytes.subarray(i, Math.min(i + 4, bytes.length)).toString('hex'));
  }
  return parts.join(' ');
}
