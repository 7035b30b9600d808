// Temporary bootstrap; replaced by scripts/gen-spec.ts output.
export const ResultReason = {
  ItemNotFound: 0x01,
  ResponseTooLarge: 0x02,
  AuthenticationNotSuccessful: 0x03,
  InvalidMessage: 0x04,
  OperationNotSupported: 0x05,
  MissingData: 0x06,
  InvalidField: 0x07,
  FeatureNotSupported: 0x08,
  PermissionDenied: 0x0c,
  GeneralFailure: 0x100,
} as const;
