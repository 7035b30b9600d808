// Runs the echo server as its own process (so it does not share the generator's event loop):
//   node --import tsx src/bench/echo-main.ts HOST PORT CERT KEY CA
// prints `{"port":N}` on stdout once listening and stops on SIGTERM.

import { readFile } from 'node:fs/promises';
import { portOf, startEchoServer } from './echo-server.js';

const [host = '127.0.0.1', port = '0', cert, key, ca] = process.argv.slice(2);
if (cert === undefined || key === undefined || ca === undefined) {
  process.stderr.write('usage: echo-main.ts HOST PORT CERT KEY CA\n');
  process.exit(1);
}
const server = await startEchoServer({
  host,
  port: Number(port),
  cert: await readFile(cert),
  key: await readFile(key),
  ca: await readFile(ca),
});
process.stdout.write(`${JSON.stringify({ port: portOf(server) })}\n`);
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
