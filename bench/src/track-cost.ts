/**
 * Why @deia/express measures from the server's 'request' event once attached: the cost of the
 * HTTP core's per-request bookkeeping on a response object before and after Express swaps its
 * prototype (Express's init middleware calls Object.setPrototypeOf on req and res). Same
 * operations as `track()` (one state property, `write`/`end` wrappers, a 'close' listener),
 * against the floor's (a closure and a 'finish' listener). ns per request, median of rounds.
 *
 *   pnpm --filter @deia/bench exec node --import tsx src/track-cost.ts
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { loadExpress } from './server/express.js';

const app = loadExpress()() as unknown as { request: object; response: object };
const kState = Symbol('state');
type Res = ServerResponse & { [kState]?: object; locals?: object };
const noop = () => {};
const socket = new Socket();

function request(): [IncomingMessage, Res] {
  const req = new IncomingMessage(socket);
  return [req, new ServerResponse(req) as Res];
}
function expressSwap(req: IncomingMessage, res: Res): void {
  Object.setPrototypeOf(req, app.request);
  Object.setPrototypeOf(res, app.response);
  res.locals = Object.create(null);
}
function track(res: Res, ctx: unknown): void {
  res[kState] = { start: performance.now(), ctx, bytes: 0, write: res.write, end: res.end };
  res.write = noop as never;
  res.end = noop as never;
  res.on('close', noop);
}

const MODES: Record<string, (req: IncomingMessage, res: Res) => bigint> = {
  // what the middleware did: track after Express's swap
  'track in the middleware': (req, res) => {
    expressSwap(req, res);
    const t = process.hrtime.bigint();
    track(res, req);
    return process.hrtime.bigint() - t;
  },
  // attached: track on the server's 'request' event, hand the request over in the middleware
  'track on the server event': (req, res) => {
    let t = process.hrtime.bigint();
    track(res, undefined);
    let spent = process.hrtime.bigint() - t;
    expressSwap(req, res);
    t = process.hrtime.bigint();
    (res[kState] as { ctx: unknown }).ctx = req;
    spent += process.hrtime.bigint() - t;
    return spent;
  },
  'floor (closure + finish listener)': (req, res) => {
    expressSwap(req, res);
    const t = process.hrtime.bigint();
    const start = performance.now();
    res.on('finish', () => start);
    return process.hrtime.bigint() - t;
  },
};

const N = 20_000;
const results: Record<string, number[]> = {};
for (let round = 0; round < 7; round++) {
  for (const [name, run] of Object.entries(MODES)) {
    let total = 0n;
    for (let i = 0; i < N; i++) total += run(...request());
    if (round < 2) continue; // the first two warm up
    const list = results[name] ?? [];
    list.push(Number(total) / N);
    results[name] = list;
  }
}
for (const [name, xs] of Object.entries(results)) {
  const sorted = xs.sort((a, b) => a - b);
  console.log(`${name.padEnd(36)} ${Math.round(sorted[Math.floor(sorted.length / 2)] as number)} ns`);
}
