import { KmipError } from '../errors.js';
import { ResultReason } from '../ttlv/spec/generated.js';
import type { OperationContext } from './context.js';

/**
 * The object an operation acts on: the Unique Identifier given, or else the batch's ID
 * Placeholder (KMIP 2.1 §2.1.14).
 */
export function targetUid(given: string | undefined, ctx: OperationContext): string {
  const uid = given ?? ctx.placeholder;
  if (uid === undefined) {
    throw new KmipError(
      ResultReason.InvalidField,
      'no Unique Identifier given and no ID Placeholder from an earlier batch item',
    );
  }
  return uid;
}
