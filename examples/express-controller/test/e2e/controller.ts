// The example controller as a child process (`node --import tsx src/main.ts`, as `pnpm start`
// runs it), plus the REST calls the test drives it with.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ProcessHandle, readyOrStop, startProcess } from './processes.js';
import { http, sleep, waitFor } from './wait.js';

/** Directory of `examples/<example>` (cwd of the child, so `tsx` resolves as in `pnpm start`). */
export const exampleDir = (example: string) => fileURLToPath(new URL(`../../../${example}`, import.meta.url));
export const controllerMainFile = (example: string) => join(exampleDir(example), 'src', 'main.ts');

export interface TestController {
  readonly url: string;
  readonly port: number;
  readonly process: ProcessHandle;
  /** Kills the controller (SIGKILL: an outage, not a graceful stop). */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same environment and waits until it is ready. */
  restart(): Promise<void>;
  tail(lines?: number): string;
}

export async function startController(options: {
  /** Directory name under examples/, e.g. `express-controller`. */
  example: string;
  port: number;
  env: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<TestController> {
  const url = `http://127.0.0.1:${options.port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    PORT: String(options.port),
    HOST: '127.0.0.1',
  };
  // Do not inherit an OTLP endpoint from the developer's shell: the test has no collector.
  env.OTEL_TRACES_EXPORTER ??= 'none';
  const spawnIt = () =>
    startProcess(
      options.example,
      process.execPath,
      ['--import', 'tsx', controllerMainFile(options.example)],
      {
        cwd: exampleDir(options.example),
        env,
      },
    );
  let current = spawnIt();
  const ready = () =>
    readyOrStop(
      current,
      waitFor(
        `controller ready (${url}/metrics answers 200)`,
        async () => {
          if (current.hasExited()) {
            throw new Error(`controller exited with ${String(await current.exited)}`);
          }
          return (await http(`${url}/metrics`, { timeoutMs: 2_000 })).status === 200;
        },
        { timeoutMs: options.readyTimeoutMs ?? 60_000, intervalMs: 250, diagnose: () => current.tail(60) },
      ),
    );
  await ready();
  return {
    url,
    port: options.port,
    get process() {
      return current;
    },
    async kill() {
      await current.kill();
    },
    async restart() {
      await current.stop(5_000);
      current = spawnIt();
      await ready();
    },
    tail: (lines = 60) => current.tail(lines),
  };
}

/** Calls `request` in `concurrency` loops until `stop()`; counts answers by HTTP status. */
export function startTraffic(
  request: () => Promise<number>,
  options: { concurrency?: number; pauseMs?: number } = {},
): { stop(): Promise<void>; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  let running = true;
  const loop = async () => {
    while (running) {
      let key: string;
      try {
        key = String(await request());
      } catch (error) {
        key = error instanceof Error ? error.name : 'error';
      }
      counts[key] = (counts[key] ?? 0) + 1;
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };
  const loops = Array.from({ length: options.concurrency ?? 2 }, loop);
  return {
    counts,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
