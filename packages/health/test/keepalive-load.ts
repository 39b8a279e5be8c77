// A load generator for shutdown tests: N keep-alive clients that keep sending (they do NOT stop when
// told `Connection: close`: like a load balancer that has not deregistered the instance yet, each
// opens a new connection and sends again) until a deadline. What matters is what happens to the
// requests they write: answered, refused before anything was sent (the listener is closed:
// ECONNREFUSED), or reset after they were sent (ECONNRESET, socket hang up, EPIPE).
import { Agent, request as httpRequest } from 'node:http';

export interface LoadResult {
  /** Requests answered (any status). */
  answered: number;
  /** Answers that carried `Connection: close`. */
  toldToClose: number;
  /** Connections refused: the listener was closed, no request was sent. */
  refused: number;
  /** Requests reset after they were written: the failures a graceful shutdown must avoid. */
  resets: number;
  /** Each reset: its error code and when it happened (ms after `mark()`). */
  resetLog: string[];
  /** Other errors (timeouts): also failures. */
  other: string[];
}

export interface KeepAliveLoad {
  /** Resolves once `n` requests were answered (all clients are busy by then). */
  warm(n: number): Promise<void>;
  /** Sets time zero for the reset log (call as the shutdown starts). */
  mark(): void;
  /** Clients stop sending at `deadline` (performance.now()); resolves with the counts. */
  finish(deadline: number): Promise<LoadResult>;
}

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

export interface LoadOptions {
  /** @default 50 */
  clients?: number;
  /** @default 'POST' */
  method?: string;
  /** Sent with each POST. @default 'ping' */
  body?: string;
  headers?: Record<string, string>;
  /** Every loop ends this long after the start, whatever happens. @default 30000 */
  maxMs?: number;
}

/**
 * Starts `clients` keep-alive clients (one socket each, `http.Agent({ keepAlive: true })`) that
 * send `method` to `url` back to back. Every request has a 5 s timeout; every loop is bounded by
 * the deadline given to `finish` (and by `maxMs` from the start).
 */
export function keepAliveLoad(url: string, options: LoadOptions = {}): KeepAliveLoad {
  const { clients = 50, method = 'POST', body = 'ping', headers = {}, maxMs = 30_000 } = options;
  const result: LoadResult = { answered: 0, toldToClose: 0, refused: 0, resets: 0, resetLog: [], other: [] };
  let deadline = performance.now() + maxMs;
  let t0 = 0;
  const send = (agent: Agent) =>
    new Promise<void>((resolve) => {
      const req = httpRequest(url, { agent, method, headers, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => {
          result.answered++;
          if (res.headers.connection === 'close') result.toldToClose++;
          resolve();
        });
        res.on('error', (err) => fail(err));
      });
      const fail = (err: NodeJS.ErrnoException) => {
        const code = err.code ?? err.message;
        if (code === 'ECONNREFUSED') result.refused++;
        else if (RESET_CODES.has(code) || /socket hang up/.test(err.message)) {
          result.resets++;
          const how = req.reusedSocket ? 'on a kept-alive socket' : 'on a new connection';
          const at = (t: number) => Math.round(t - t0);
          result.resetLog.push(`${code} at ${at(performance.now())} ms, ${how}, sent at ${at(sentAt)} ms`);
        } else result.other.push(code);
        resolve();
      };
      const sentAt = performance.now();
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', fail);
      req.end(method === 'POST' ? body : undefined);
    });
  const loops = Array.from({ length: clients }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (performance.now() < deadline) {
        const refusedBefore = result.refused;
        await send(agent);
        // refused: nothing listens; try again a little later, as a client would elsewhere
        if (result.refused > refusedBefore) await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      agent.destroy();
    }
  });
  return {
    async warm(n) {
      const until = performance.now() + 20_000;
      while (result.answered < n && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
    },
    mark() {
      t0 = performance.now();
    },
    async finish(at) {
      deadline = Math.min(deadline, at);
      await Promise.all(loops);
      return result;
    },
  };
}
