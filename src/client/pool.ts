// A fixed-size pool of KMIP connections. Each connection carries one outstanding request
// (connection.ts), so a request waits for an idle connection; connections are opened on demand
// up to the pool size. A connection that failed or timed out is closed and replaced lazily.

import type { KmipConnection } from './connection.js';
import { KmipTimeoutError } from './errors.js';

type Waiter = { resolve: (c: KmipConnection) => void; reject: (err: Error) => void };

export class ConnectionPool {
  private readonly idle: KmipConnection[] = [];
  private readonly waiters: Waiter[] = [];
  /** Open connections, idle or in use, plus those being opened. */
  private count = 0;
  private closed = false;

  constructor(
    private readonly open: () => Promise<KmipConnection>,
    readonly size: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('poolSize must be at least 1');
  }

  /**
   * Sends one frame on a free connection and resolves with the response frame. After
   * `timeoutMs` the request fails with KmipTimeoutError and its connection is discarded: a
   * late response must never be read as the answer to the next request.
   */
  async send(frame: Buffer, timeoutMs: number): Promise<Buffer> {
    const conn = await this.acquire();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KmipTimeoutError(timeoutMs)), timeoutMs);
    });
    const sent = conn.send(frame);
    try {
      const response = await Promise.race([sent, timedOut]);
      this.release(conn);
      return response;
    } catch (err) {
      sent.catch(() => {});
      this.discard(conn);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Connections open or opening, idle ones, and requests waiting for a connection. */
  stats(): { size: number; open: number; idle: number; waiting: number } {
    return {
      size: this.size,
      open: this.count,
      idle: this.idle.length,
      waiting: this.waiters.length,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('the client is closed'));
    await Promise.all(this.idle.splice(0).map((c) => c.close()));
  }

  private acquire(): Promise<KmipConnection> {
    if (this.closed) return Promise.reject(new Error('the client is closed'));
    const conn = this.idle.pop();
    if (conn !== undefined) return Promise.resolve(conn);
    if (this.count < this.size) {
      this.count++;
      return this.open().catch((err: Error) => {
        this.count--;
        this.wakeOpener();
        throw err;
      });
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private release(conn: KmipConnection): void {
    if (this.closed) {
      this.count--;
      void conn.close();
      return;
    }
    const w = this.waiters.shift();
    if (w !== undefined) w.resolve(conn);
    else this.idle.push(conn);
  }

  private discard(conn: KmipConnection): void {
    this.count--;
    void conn.close();
    this.wakeOpener();
  }

  /** A slot became free: the first waiter opens a connection of its own. */
  private wakeOpener(): void {
    const w = this.waiters.shift();
    if (w === undefined) return;
    this.acquire().then(w.resolve, w.reject);
  }
}
