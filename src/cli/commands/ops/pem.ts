// PEM (RFC 7468) for `kmip register --format pem` and `kmip get --format pem`: the label says
// which DER structure the block holds and so which Key Format Type it is registered as.

const LABEL_FORMAT: Record<string, string | undefined> = {
  'PRIVATE KEY': 'PKCS_8',
  'RSA PRIVATE KEY': 'PKCS_1',
  'EC PRIVATE KEY': 'ECPrivateKey',
  'PUBLIC KEY': 'X_509',
  'RSA PUBLIC KEY': 'PKCS_1',
  CERTIFICATE: undefined,
};

export function fromPem(text: string): { der: Buffer; keyFormatType?: string } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (m === null) throw new Error('no PEM block in the file');
  const label = m[1]!;
  if (!(label in LABEL_FORMAT)) {
    throw new Error(`PEM blocks labelled '${label}' are not supported`);
  }
  return {
    der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'),
    keyFormatType: LABEL_FORMAT[label],
  };
}

export function toPem(objectType: string, der: Uint8Array): string {
  const label =
    objectType === 'PrivateKey'
      ? 'PRIVATE KEY'
      : objectType === 'PublicKey'
        ? 'PUBLIC KEY'
        : objectType === 'Certificate'
          ? 'CERTIFICATE'
          : undefined;
  if (label === undefined) throw new Error(`a ${objectType} has no PEM form`);
  const body = Buffer.from(der)
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}
