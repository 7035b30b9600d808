// The last-resort process handlers of `kmipd serve` (installLastResortHandlers): an unhandled
// rejection is logged and serving goes on; an uncaught exception is logged, the server is
// stopped and the process exits 1.

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'last-resort-child.ts');

describe('last-resort handlers', () => {
  it('keep serving after an unhandled rejection and stop, exit 1, after an uncaught exception', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const msgs = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toEqual([
      'unhandled rejection; still serving',
      'still serving',
      'uncaught exception; stopping',
      'stop called',
    ]);
    expect(run.status).toBe(1);
    // Logged without data: the error's message is not in the log.
    expect(run.stdout).not.toContain('nobody awaited this');
  });
});
