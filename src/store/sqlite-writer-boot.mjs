// Entry of the SQLite writer thread (sqlite-writer-thread.ts). A worker thread does not
// inherit the TypeScript loader of the thread that starts it, so it registers one first.

import { register } from 'tsx/esm/api';

register();
await import('./sqlite-writer-worker.ts');
