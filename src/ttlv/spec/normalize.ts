// Name normalisation of KMIP Profiles 2.1 §5.4.1.1 (XML Encoding, Normalizing Names): turns a
// specification name ("Cryptographic Algorithm", "PKCS#1", "Pre-Active") into the CamelCase
// form used by the XML and JSON encodings ("CryptographicAlgorithm", "PKCS_1", "PreActive").

/** Applies rules (1) to (6) of KMIP Profiles 2.1 §5.4.1.1 to a specification name. */
export function normalizeName(specName: string): string {
  // (1) parentheses become spaces.
  let s = specName.replace(/[()]/g, ' ');
  // (2) a non-word character followed by a letter and then a lower-case letter becomes a space.
  s = s.replace(/[^\w\s](?=[A-Za-z][a-z])/g, ' ');
  // (3) any other non-word character except whitespace becomes an underscore.
  s = s.replace(/[^\w\s]/g, '_');
  const words = s.split(/\s+/).filter((w) => w.length > 0);
  // (4) leading digits of the first word move to the end of that word ("3DES" → "DES3").
  const first = words[0];
  if (first !== undefined) {
    const m = /^(\d+)(.*)$/.exec(first);
    if (m) words[0] = `${m[2]}${m[1]}`;
  }
  // (5) capitalise the first letter of each word; (6) join without spaces.
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}
