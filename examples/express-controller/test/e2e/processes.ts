// Child-process management for the end-to-end test: every process is started through
// `startProcess`, remembered, and killed by its PID (never by name) in `stopAll`.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** A running child process with its recent output kept for failure messages. */
export interface ProcessHandle {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** The last lines of stdout and stderr, prefixed with the process name. */
  tail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL right away; resolves when the process has exited. */
  kill(): Promise<void>;
}

const running = new Set<ProcessHandle>();
let exitHookInstalled = false;

const emergencyCleanups = new Set<() => void>();

/**
 * Registers a synchronous cleanup (removing a temp dir) for when the process ends without
 * afterAll; returns a function that unregisters it once afterAll has done the job.
 */
export function onEmergencyExit(cleanup: () => void): () => void {
  installExitHooks();
  emergencyCleanups.add(cleanup);
  return () => emergencyCleanups.delete(cleanup);
}

/** SIGKILL every child still running, by PID, then the registered cleanups (all synchronous). */
function killRunningNow(): void {
  for (const handle of running) {
    try {
      process.kill(handle.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const cleanup of emergencyCleanups) {
    try {
      cleanup();
    } catch {
      // best effort
    }
  }
  emergencyCleanups.clear();
}

/**
 * Last resort when the test process ends without afterAll, so no Prometheus or Redis outlives the
 * run: on exit; on SIGTERM/SIGINT (re-raised after the cleanup); and when the vitest parent goes
 * away (IPC disconnect), after which the worker would keep running the scenarios orphaned and
 * spawn new children, so it kills itself.
 */
function installExitHooks(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', killRunningNow);
  process.once('disconnect', () => {
    killRunningNow();
    // vitest intercepts process.exit() in its workers; nobody is left to report to.
    process.kill(process.pid, 'SIGKILL');
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const onSignal = () => {
      killRunningNow();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.once(signal, onSignal);
  }
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a listen(0) server'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * Finds the first of `names` on PATH. Throws a message naming the Debian package that provides
 * it: the test does not skip when a binary is missing, `.ci/run` installs them.
 */
export function findBinary(names: readonly string[], debianPackage: string): string {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  throw new Error(
    `none of ${names.join(', ')} is on PATH; install the Debian package "${debianPackage}" (.ci/run does this)`,
  );
}

export interface StartProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Lines of output kept for `tail()`. @default 200 */
  keepLines?: number;
}

/** Spawns `command args` (no shell) and registers it for `stopAll`. */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: StartProcessOptions = {},
): ProcessHandle {
  installExitHooks();
  const keep = options.keepLines ?? 200;
  const lines: string[] = [];
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    throw new Error(`${name}: could not spawn ${command}`);
  }
  const pid = child.pid;
  const record = (stream: string) => (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(`[${name} ${stream}] ${line.length > 400 ? `${line.slice(0, 400)}...` : line}`);
      if (lines.length > keep) lines.shift();
    }
  };
  child.stdout?.on('data', record('out'));
  child.stderr?.on('data', record('err'));
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      running.delete(handle);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (error) => {
      lines.push(`[${name} spawn error] ${error.message}`);
      done = true;
      running.delete(handle);
      resolve('spawn-error');
    });
  });
  const signalPid = (signal: NodeJS.Signals) => {
    if (done) return;
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  };
  const handle: ProcessHandle = {
    name,
    pid,
    child,
    exited,
    hasExited: () => done,
    tail: (n = 40) => lines.slice(-n).join('\n'),
    async stop(graceMs = 5_000) {
      if (done) return;
      signalPid('SIGTERM');
      const timer = setTimeout(() => signalPid('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      signalPid('SIGKILL');
      await exited;
    },
  };
  running.add(handle);
  return handle;
}

/** Stops every process started by `startProcess` that is still running, each by its PID. */
export async function stopAll(graceMs = 3_000): Promise<void> {
  await Promise.all([...running].map((handle) => handle.stop(graceMs)));
}

/**
 * Awaits `readiness`; fails as soon as the process exits first (a port someone else took, a bad
 * flag) instead of polling a dead process until the timeout; when it fails, stops `handle` (by
 * PID) before rethrowing.
 */
export async function readyOrStop<T>(handle: ProcessHandle, readiness: Promise<T>): Promise<T> {
  // Both promises go into the race, which handles a rejection of either after it has settled.
  const exitedFirst = handle.exited.then((code): never => {
    throw new Error(
      `${handle.name} (pid ${handle.pid}) exited with ${code} before it was ready:\n${handle.tail()}`,
    );
  });
  try {
    return await Promise.race([readiness, exitedFirst]);
  } catch (error) {
    await handle.stop(2_000);
    throw error;
  }
}
