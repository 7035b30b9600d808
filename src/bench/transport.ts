// The load generator's target: where to connect and with which certificates. Connections are
// the client library's (src/client/connection.ts): mutual TLS, one outstanding request, with
// the TLS version cappable because PyKMIP's TLS1.2 suite speaks only 1.2 and comparing servers
// means pinning both alike.

import type { ConnectOptions } from '../client/connection.js';

export type BenchTarget = Pick<
  ConnectOptions,
  'host' | 'port' | 'cert' | 'key' | 'ca' | 'servername' | 'tlsMaxVersion'
>;
