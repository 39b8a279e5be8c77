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
  /** Starts a fresh server on the same port and waits until it answers (itself, not another). */
  restart(): Promise<void>;
  /** Output of the current server process, for failure messages. */
  tail(): string;
}

/**
 * Asks `INFO server` over raw RESP and resolves the `process_id` of the redis-server answering on
 * `port` (undefined when nothing answers), so readiness can check the answer comes from the
 * server this test started and not from another one that holds the port.
 */
export function redisProcessId(port: number, timeoutMs = 1_000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (pid: number | undefined) => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.once('error', () => finish(undefined));
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (data) => {
      reply += data.toString();
      if (reply.startsWith('-')) return finish(undefined); // -LOADING and the like: not ready yet
      const m = /\r\nprocess_id:(\d+)\r\n/.exec(reply);
      if (m) finish(Number(m[1]));
    });
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
      waitFor(
        `redis-server pid ${current.pid} to answer on 127.0.0.1:${port}`,
        async () => (await redisProcessId(port)) === current.pid,
        { timeoutMs: 10_000, intervalMs: 100, diagnose: () => current.tail() },
      ),
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
