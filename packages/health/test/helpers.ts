import { type ChildProcess, spawn } from 'node:child_process';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, createServer, type Socket, type Server as TcpServer } from 'node:net';
import type { Health, HealthResponse } from '../src/index.js';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const portOf = (server: { address(): unknown }) => (server.address() as AddressInfo).port;

/** A TCP server on loopback; `onSocket` decides what happens to each connection (default: read, never answer). */
export async function tcpServer(onSocket: (socket: Socket) => void = (s) => s.resume()) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: TcpServer = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: portOf(server),
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on loopback nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = portOf(s);
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// --- a minimal PostgreSQL wire-protocol server for faults the real server cannot be made to do ---

function message(type: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(payload.length + 4, 1);
  return Buffer.concat([head, payload]);
}
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
function errorResponse(code: string, text: string): Buffer {
  const field = (t: string, v: string) => Buffer.from(`${t}${v}\0`, 'utf8');
  return message(
    'E',
    Buffer.concat([
      field('S', 'FATAL'),
      field('V', 'FATAL'),
      field('C', code),
      field('M', text),
      Buffer.from([0]),
    ]),
  );
}

/**
 * `password`: asks for a cleartext password and rejects it like PostgreSQL does (28P01).
 * `hang-query`: completes the start-up (trust) and then never answers a query.
 * `slow-startup`: completes the start-up after `delayMs`, then never answers a query.
 */
export function fakePostgres(mode: 'password' | 'hang-query' | 'slow-startup', delayMs = 0) {
  return tcpServer((socket) => {
    let startup = true;
    socket.on('data', (chunk) => {
      if (startup) {
        startup = false;
        const ready = Buffer.concat([message('R', int32(0)), message('Z', Buffer.from('I'))]);
        if (mode === 'password') socket.write(message('R', int32(3)));
        else if (mode === 'slow-startup') setTimeout(() => socket.writable && socket.write(ready), delayMs);
        else socket.write(ready);
        return;
      }
      if (mode === 'password' && chunk[0] === 'p'.charCodeAt(0)) {
        socket.end(errorResponse('28P01', 'password authentication failed for user "app"'));
      }
      // hang-query: swallow everything
    });
  });
}

// --- HTTP ---

export async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server: Server = createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${portOf(server)}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Calls `health.handle` as an adapter would. */
export async function get(
  health: Health,
  path: string,
  headers: Record<string, string> = {},
): Promise<HealthResponse> {
  const res = health.handle({ method: 'GET', path, headers });
  if (!res) throw new Error(`${path} is not a health path`);
  return res;
}

/**
 * Runs `work()` and measures how long the event loop did not run from `fromMs` (after the start)
 * until `work()` settled: a 10 ms sampler's delays past its interval. That is time in which this
 * process got no CPU, so nothing it does, a timeout's handling included, could have happened
 * then; waiting for I/O or a timer is not a stall.
 */
async function withStalls<T>(work: () => Promise<T>, fromMs = 0): Promise<{ value: T; stalledMs: number }> {
  const TICK_MS = 10;
  const start = performance.now();
  let lastTick = start;
  let stalledMs = 0;
  const sampler = setInterval(() => {
    const now = performance.now();
    if (now - start > fromMs) stalledMs += Math.max(0, now - lastTick - TICK_MS);
    lastTick = now;
  }, TICK_MS);
  try {
    return { value: await work(), stalledMs };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Runs `work()` and says how long it took and how much of that the machine withheld
 * (`stalledMs`), so "answered at once" can be asserted as `ms - stalledMs < bound` on a loaded
 * machine without letting a real wait (on a timer or a socket) pass.
 */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; stalledMs: number }> {
  const start = performance.now();
  const { value, stalledMs } = await withStalls(work);
  return { value, ms: performance.now() - start, stalledMs };
}

/**
 * Runs `work()` next to a control timer of `expectedMs` started at the same moment. On a loaded
 * machine timers fire late, and after that the process may not get the CPU to handle what they
 * started; `lateMs` is the machine's share, so a timeout can be asserted "within 10%" of what the
 * machine can do. It is the larger of the control's lateness and the event loop's stalls from
 * the deadline on.
 */
export async function timedAgainst<T>(
  expectedMs: number,
  work: () => Promise<T>,
): Promise<{ value: T; ms: number; lateMs: number }> {
  const start = performance.now();
  let firedAt = 0;
  const control = new Promise<void>((resolve) =>
    setTimeout(() => {
      firedAt = performance.now() - start;
      resolve();
    }, expectedMs),
  );
  const { value, stalledMs } = await withStalls(work, expectedMs);
  const ms = performance.now() - start;
  await control;
  return { value, ms, lateMs: Math.max(firedAt - expectedMs, stalledMs, 0) };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A redis-server of the test's own on a free loopback port (no persistence). */
export async function startRedisServer(): Promise<{
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}> {
  const port = await closedPort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // not left running behind a failed test
      reject(new Error('redis-server did not start within 10 s'));
    }, 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (/ready to accept connections/i.test(d.toString())) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}`));
    });
  });
  return {
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A recording logger (pino-shaped). */
export function memoryLogger() {
  const entries: Array<{ level: string; obj: Record<string, unknown>; msg?: string }> = [];
  const log = (level: string) => (obj: object, msg?: string) => {
    entries.push({ level, obj: obj as Record<string, unknown>, ...(msg !== undefined ? { msg } : {}) });
  };
  return { entries, warn: log('warn'), error: log('error'), info: log('info') };
}
