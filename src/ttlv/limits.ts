// Decoder limits. Each one stops a specific attack on a server that decodes untrusted bytes.

export interface DecodeLimits {
  /**
   * Largest message accepted, header included. Stops memory exhaustion by a peer that declares
   * (or sends) a huge message; the frame splitter checks it before buffering anything.
   */
  maxMessageBytes: number;
  /** Deepest Structure nesting. Stops stack exhaustion by deeply nested structures. */
  maxDepth: number;
  /**
   * Most items in one message. Stops CPU and allocation blow-up from millions of tiny items
   * (an empty Structure is 8 bytes, so 1 MiB could otherwise hold 131,072 objects).
   */
  maxItems: number;
}

export const DEFAULT_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxMessageBytes: 1024 * 1024,
  maxDepth: 32,
  maxItems: 65_536,
});

export function resolveLimits(limits?: Partial<DecodeLimits>): DecodeLimits {
  return limits === undefined ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, ...limits };
}
