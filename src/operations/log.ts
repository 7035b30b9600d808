// KMIP 2.1 Log operation (2.0+): the client's Log Message goes into the server log, as one info line
// bound to the request (identity, request id). Profiles 2.1 §4.1.2 uses it to annotate test
// cases. The text is the client's own; it is cut to a bounded length, never interpreted.

import { struct, text } from '../kmip/schema.js';
import { Tag } from '../ttlv/spec/generated.js';
import { operation } from './context.js';

/** Longest Log Message kept: stops a client from writing arbitrarily large log lines. */
export const MAX_LOG_MESSAGE = 1024;

const LogRequest = struct({ logMessage: text(Tag.LogMessage) });
const Empty = struct({});

export const log = operation({
  request: LogRequest,
  response: Empty,
  async run(req, ctx) {
    const message = req.logMessage;
    ctx.log.info(
      {
        clientLog:
          message.length > MAX_LOG_MESSAGE ? `${message.slice(0, MAX_LOG_MESSAGE)}…` : message,
        truncated: message.length > MAX_LOG_MESSAGE,
      },
      'client log message',
    );
    return {};
  },
});
