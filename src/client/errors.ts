// What the client throws. A batch item the server answered with Operation Failed becomes a
// KmipOperationError carrying the Result Reason as number and name (KMIP 2.1 §11.16) and the
// server's Result Message; transport failures stay ConnectionError (from connection.ts).

import { Tag } from '../ttlv/spec/generated.js';
import { enumName } from '../ttlv/spec/index.js';

export { ConnectionError } from './connection.js';

/** The name of a Result Reason value, or its hex form when the table has none. */
export function resultReasonName(reason: number): string {
  return enumName(Tag.ResultReason, reason) ?? `0x${reason.toString(16).padStart(8, '0')}`;
}

export class KmipOperationError extends Error {
  override readonly name = 'KmipOperationError';
  /** Result Status name: 'OperationFailed', or 'OperationPending' (asynchronous, unsupported). */
  readonly resultStatus: string;
  readonly resultReason: number;
  readonly resultReasonName: string;
  readonly resultMessage: string | undefined;
  /** Operation name of the failed batch item, e.g. 'Get'. */
  readonly operation: string;
  /** Position of the failed item in its batch, from 0. */
  readonly batchIndex: number;

  constructor(init: {
    resultStatus: number;
    resultReason: number | undefined;
    resultMessage: string | undefined;
    operation: string;
    batchIndex: number;
  }) {
    // A failure without a reason is reported as General Failure (KMIP 2.1 §11.16: the reason
    // is required when the status is Operation Failed).
    const reason = init.resultReason ?? 0x100;
    const reasonName = resultReasonName(reason);
    super(`${reasonName}: ${init.resultMessage ?? `${init.operation} failed`}`);
    this.resultStatus = enumName(Tag.ResultStatus, init.resultStatus) ?? String(init.resultStatus);
    this.resultReason = reason;
    this.resultReasonName = reasonName;
    this.resultMessage = init.resultMessage;
    this.operation = init.operation;
    this.batchIndex = init.batchIndex;
  }
}

/** No response within the request's time limit; the connection that carried it is dropped. */
export class KmipTimeoutError extends Error {
  override readonly name = 'KmipTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no response within ${timeoutMs} ms`);
  }
}

/** A response the client cannot match to its request (wrong batch count, unknown item ID). */
export class KmipProtocolError extends Error {
  override readonly name = 'KmipProtocolError';
}
