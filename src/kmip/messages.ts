// Request and response messages (KMIP 1.4 §7, KMIP 2.1 §8 message contents). Payloads stay raw
// here; each operation's schema reads its own payload.

import { Tag } from '../ttlv/spec/generated.js';
import {
  bool,
  bytes,
  dateTime,
  enumeration,
  int,
  many,
  opt,
  raw,
  struct,
  type TypeOf,
  text,
  versions,
} from './schema.js';

export const ProtocolVersion = struct({
  major: int(Tag.ProtocolVersionMajor),
  minor: int(Tag.ProtocolVersionMinor),
});

export const UsernamePassword = struct({
  username: text(Tag.Username),
  password: opt(text(Tag.Password)),
});

export const Credential = struct({
  credentialType: enumeration(Tag.CredentialType),
  credentialValue: raw(Tag.CredentialValue),
});

export const Authentication = struct({
  credentials: many(Credential.at(Tag.Credential)),
});

export const RequestHeader = struct({
  protocolVersion: ProtocolVersion.at(Tag.ProtocolVersion),
  maximumResponseSize: opt(int(Tag.MaximumResponseSize)),
  clientCorrelationValue: opt(versions(text(Tag.ClientCorrelationValue), { since: '1.4' })),
  serverCorrelationValue: opt(versions(text(Tag.ServerCorrelationValue), { since: '1.4' })),
  asynchronousIndicator: opt(bool(Tag.AsynchronousIndicator)),
  attestationCapableIndicator: opt(bool(Tag.AttestationCapableIndicator)),
  authentication: opt(Authentication.at(Tag.Authentication)),
  batchErrorContinuationOption: opt(enumeration(Tag.BatchErrorContinuationOption)),
  batchOrderOption: opt(bool(Tag.BatchOrderOption)),
  timeStamp: opt(dateTime(Tag.TimeStamp)),
  batchCount: int(Tag.BatchCount),
});

export const RequestBatchItem = struct({
  operation: enumeration(Tag.Operation),
  uniqueBatchItemId: opt(bytes(Tag.UniqueBatchItemID)),
  requestPayload: opt(raw(Tag.RequestPayload)),
  messageExtension: opt(raw(Tag.MessageExtension)),
});

export const RequestMessage = struct({
  header: RequestHeader.at(Tag.RequestHeader),
  batchItems: many(RequestBatchItem.at(Tag.BatchItem)),
});

export const ResponseHeader = struct({
  protocolVersion: ProtocolVersion.at(Tag.ProtocolVersion),
  timeStamp: dateTime(Tag.TimeStamp),
  clientCorrelationValue: opt(versions(text(Tag.ClientCorrelationValue), { since: '1.4' })),
  serverCorrelationValue: opt(versions(text(Tag.ServerCorrelationValue), { since: '1.4' })),
  batchCount: int(Tag.BatchCount),
});

export const ResponseBatchItem = struct({
  operation: opt(enumeration(Tag.Operation)),
  uniqueBatchItemId: opt(bytes(Tag.UniqueBatchItemID)),
  resultStatus: enumeration(Tag.ResultStatus),
  resultReason: opt(enumeration(Tag.ResultReason)),
  resultMessage: opt(text(Tag.ResultMessage)),
  responsePayload: opt(raw(Tag.ResponsePayload)),
});

export const ResponseMessage = struct({
  header: ResponseHeader.at(Tag.ResponseHeader),
  batchItems: many(ResponseBatchItem.at(Tag.BatchItem)),
});

export type RequestMessage = TypeOf<typeof RequestMessage>;
export type RequestBatchItem = TypeOf<typeof RequestBatchItem>;
export type ResponseMessage = TypeOf<typeof ResponseMessage>;
export type ResponseBatchItem = TypeOf<typeof ResponseBatchItem>;
export type UsernamePassword = TypeOf<typeof UsernamePassword>;
