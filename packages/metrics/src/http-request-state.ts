import type { ServerResponse } from 'node:http';

/**
 * The HTTP core's per-request state and response-size counting, from node's public response API
 * only: the Content-Length the response declares (public `getHeader`), else the bytes handed to
 * `write`/`end` (counted by wrapping them on the response object, as compression middleware does;
 * only computed when no Content-Length is set).
 */

// Per-request state in one object under one symbol: one property added to `res` (Express's
// response objects are costly to extend), plus the write/end wrappers.
export const kState = Symbol('deia.request');

/** What `track` stores on a response: start time, the adapter's context, body bytes written. */
export interface RequestState {
  start: number;
  ctx: unknown;
  bytes: number;
  write: Write;
  end: Write;
}

/** `res.write` / `res.end` as they are called. */
export type Write = (this: ServerResponse, chunk: unknown, encoding?: unknown, cb?: unknown) => unknown;

/** A response `track` has seen: it carries a `RequestState` under `kState`. */
export type TrackedResponse = ServerResponse & {
  [kState]?: RequestState;
};

/** Adds the size of one chunk handed to `write`/`end` to the request's bytes (none when a Content-Length is set). */
function count(res: TrackedResponse, chunk: unknown, encoding: unknown): void {
  if (chunk == null || typeof chunk === 'function') return;
  if (typeof chunk === 'string') {
    if (res.hasHeader('content-length')) return;
    (res[kState] as RequestState).bytes += Buffer.byteLength(
      chunk,
      typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
    );
  } else if (typeof (chunk as Uint8Array).byteLength === 'number') {
    (res[kState] as RequestState).bytes += (chunk as Uint8Array).byteLength;
  }
}

/** Installed as `res.write` by `track`: counts the chunk, then calls the response's own `write`. */
export function countingWrite(
  this: TrackedResponse,
  chunk: unknown,
  encoding?: unknown,
  cb?: unknown,
): unknown {
  count(this, chunk, encoding);
  return (this[kState] as RequestState).write.call(this, chunk, encoding, cb);
}

/** Installed as `res.end` by `track`: counts the last chunk, then calls the response's own `end`. */
export function countingEnd(
  this: TrackedResponse,
  chunk?: unknown,
  encoding?: unknown,
  cb?: unknown,
): unknown {
  count(this, chunk, encoding);
  return (this[kState] as RequestState).end.call(this, chunk, encoding, cb);
}

/**
 * Response body bytes: none for HEAD, 1xx, 204 and 304; else the Content-Length the response
 * declares; else (streamed, chunked, or aborted) the body bytes the app wrote.
 */
export function bytesSent(res: TrackedResponse, method: string, status: number, finished: boolean): number {
  if (method === 'HEAD' || status === 204 || status === 304 || (status < 200 && finished)) return 0;
  // aborted before its headers went out, or after the app had ended it but before node could
  // flush it (an error handler answering a client that is gone): none of it was delivered
  if (!finished && (!res.headersSent || res.writableEnded)) return 0;
  if (finished) {
    const header = res.getHeader('content-length');
    if (header !== undefined) {
      const n = Number(header);
      if (n >= 0) return n;
    }
  }
  return res[kState]?.bytes ?? 0;
}
