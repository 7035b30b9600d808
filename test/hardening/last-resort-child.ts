// Child for last-resort.test.ts: installs the serving process's last-resort handlers, then
// leaves a rejection unhandled (serving must go on) and throws outside any request (the process
// must stop through `stop` and exit 1).

import pino from 'pino';
import { installLastResortHandlers } from '../../src/server/tls-server.js';

const log = pino({ base: undefined }, pino.destination({ fd: 1, sync: true }));
installLastResortHandlers(log, async () => {
  process.stdout.write('{"msg":"stop called"}\n');
});
void Promise.reject(new Error('nobody awaited this'));
setTimeout(() => {
  process.stdout.write('{"msg":"still serving"}\n');
  setTimeout(() => {
    throw new TypeError('a bug outside any request');
  }, 10);
}, 50);
