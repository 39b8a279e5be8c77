// A redis-server the test owns, on a free port, so the test can stop it (cache down) and start it
// again on the same port (recovery) without touching the shared Redis on 6379.
import { connect } from 'node:net';
import { findBinary, type ProcessHandle, readyOrStop, startProcess } from './processes.js';
import { waitFor } from './wait.js';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  readonly process: ProcessHandle;
  /** Stops the server (SIGTERM, nothing saved). */
  stop(): Promise<void>;
  /** Starts a fresh server on the same port and waits until it answers PING. */
  restart(): Promise<void>;
  /** Output of the current server process, for failure messages. */
  tail(): string;
}

/** Sends PING over raw RESP and resolves true on `+PONG`. */
export function redisPing(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')));
  });
}

export async function startRedis(port: number): Promise<TestRedis> {
  const binary = findBinary(['redis-server'], 'redis-server');
  const spawnServer = () =>
    startProcess('redis', binary, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
    ]);
  let current = spawnServer();
  const ready = () =>
    readyOrStop(
      current,
      waitFor(`redis-server on 127.0.0.1:${port} to answer PING`, () => redisPing(port), {
        timeoutMs: 10_000,
        intervalMs: 100,
        diagnose: () => current.tail(),
      }),
    );
  await ready();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get process() {
      return current;
    },
    async stop() {
      await current.stop(3_000);
    },
    async restart() {
      await current.stop(3_000);
      current = spawnServer();
      await ready();
    },
    tail: () => current.tail(),
  };
}
