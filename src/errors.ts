import { ResultReason } from './ttlv/spec/generated.js';

/**
 * The one error type of kmipd. `reason` is the KMIP Result Reason the server answers with;
 * `path` is the tag path where a decode or validation failure happened, outermost first
 * (e.g. ['RequestMessage', 'BatchItem[1]', 'RequestPayload']). Messages never carry key
 * material or secrets.
 */
export class KmipError extends Error {
  override readonly name = 'KmipError';
  readonly reason: number;
  readonly path: string[];

  constructor(reason: number, message: string, path: string[] = []) {
    super(message);
    this.reason = reason;
    this.path = path;
  }

  /** Prepends an outer path segment while an error unwinds through nested structures. */
  within(segment: string): this {
    this.path.unshift(segment);
    return this;
  }

  /** One line: reason name, message and path, for logs and the CLI. */
  describe(): string {
    const reason = resultReasonName(this.reason);
    const at = this.path.length > 0 ? ` at ${this.path.join(' › ')}` : '';
    return `${reason}: ${this.message}${at}`;
  }
}

export function resultReasonName(reason: number): string {
  for (const [name, value] of Object.entries(ResultReason)) {
    if (value === reason) return name;
  }
  return `0x${reason.toString(16).padStart(8, '0')}`;
}

export const invalidMessage = (message: string, path?: string[]) =>
  new KmipError(ResultReason.InvalidMessage, message, path);
export const invalidField = (message: string, path?: string[]) =>
  new KmipError(ResultReason.InvalidField, message, path);
