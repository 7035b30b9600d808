#!/usr/bin/env node
// Installs the real components the test suite drives (DEVELOPERS.md: tests never skip a
// missing component under CI). Debian packages only; runs apt-get when something is missing
// and we are root, otherwise says exactly what to install and fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needs = [
  { pkg: 'python3-pykmip', present: () => pythonHas('kmip') },
  { pkg: 'softhsm2', present: () => existsSync('/usr/lib/softhsm/libsofthsm2.so') },
  { pkg: 'postgresql', present: () => findPgBin('initdb') !== undefined },
];

function pythonHas(module) {
  return (
    spawnSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0
  );
}

function findPgBin(name) {
  for (const v of ['17', '16', '15']) {
    const p = `/usr/lib/postgresql/${v}/bin/${name}`;
    if (existsSync(p)) return p;
  }
  return undefined;
}

const missing = needs.filter((n) => !n.present()).map((n) => n.pkg);
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  console.error(`setup-test-env: missing Debian packages: ${missing.join(' ')}`);
  console.error(`install them with: sudo apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}
console.log(`setup-test-env: installing ${missing.join(' ')} ...`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const apt = (args) => execFileSync('apt-get', args, { stdio: 'inherit', env });
try {
  apt(['install', '-y', '--no-install-recommends', ...missing]);
} catch {
  apt(['update']);
  apt(['install', '-y', '--no-install-recommends', ...missing]);
}
