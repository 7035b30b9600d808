// The KMIP client library: `KmipClient.connect(...)`, typed operations, batches, errors.

export type { Attribute } from '../kmip/attributes.js';
export type { KmipVersion } from '../ttlv/spec/index.js';
export {
  type AttributeInput,
  attributeRecord,
  type CustomValue,
  type EnumInput,
} from './attributes.js';
export {
  Batch,
  type BatchOptions,
  type ClientOptions,
  KmipClient,
  type SendOptions,
  type Settled,
} from './client.js';
export { readCertificateFiles } from './connection.js';
export type * from './crypto-operations.js';
export {
  ConnectionError,
  KmipOperationError,
  KmipProtocolError,
  KmipTimeoutError,
  resultReasonName,
} from './errors.js';
export type { ObjectValue, RegisterInput } from './objects.js';
export type * from './operations.js';
