import { opt, struct, text } from '../kmip/schema.js';
import { Tag } from '../ttlv/spec/generated.js';

/** Payload of operations that take or return only a Unique Identifier. */
export const UidOnly = struct({ uniqueIdentifier: opt(text(Tag.UniqueIdentifier)) });
export const UidResult = struct({ uniqueIdentifier: text(Tag.UniqueIdentifier) });
