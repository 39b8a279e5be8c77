import { checkOptions, type OptionRule, type OptionsSchema, rules } from '@deia/options';
import { serverDrainer } from './drain.js';
import { DeiaHealthError } from './errors.js';
import type { Closer, Shutdown, ShutdownOptions } from './types.js';
import { failShutdown } from './validation.js';

/** Defaults of `createShutdown`. */
export const DEFAULT_SHUTDOWN_OPTIONS = {
  /** Well inside Kubernetes' default 30 s grace period, leaving time for the closers. */
  timeoutMs: 10_000,
  delayMs: 0,
  signals: ['SIGTERM', 'SIGINT'] as NodeJS.Signals[],
} as const;

const TIMED_OUT = Symbol('timed out');

/** Resolves to `TIMED_OUT` after `ms`; the timer is cleared when `work` settles first. */
async function bounded<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Graceful shutdown: on SIGTERM/SIGINT (or `run()`), readiness turns 503, the server stops
 * accepting and drains (or `stop()` runs), the closers run in order (each bounded by `timeoutMs`,
 * an error in one does not stop the next), `health.close()` runs, then the process exits.
 * `run()` is idempotent; `dispose()` removes the signal listeners.
 */
/** The options of `createShutdown`, declared once (see `checkOptions`). */
const SHUTDOWN_OPTIONS_SCHEMA = {
  health: rules.methods(['setShuttingDown', 'close'], 'the object createHealth() returns'),
  server: rules.methods(['close', 'closeIdleConnections'], 'a node http.Server (Node >= 18.2)'),
  stop: rules.function('a function returning a promise'),
  closers: rules.arrayOf(
    (c) =>
      c !== null &&
      typeof c === 'object' &&
      typeof (c as Closer).name === 'string' &&
      typeof (c as Closer).close === 'function',
    'a list of { name: string, close: () => unknown }',
  ),
  timeoutMs: rules.number('> 0', { min: 0, exclusive: true }),
  delayMs: rules.number('>= 0', { min: 0 }),
  signals: {
    must: 'false or a list of signal names such as ["SIGTERM", "SIGINT"]',
    ok: (s) =>
      s === false || (Array.isArray(s) && s.every((x) => typeof x === 'string' && x.startsWith('SIG'))),
  },
  exit: rules.either(rules.boolean(), rules.function('a function (code) => void')),
  logger: rules.methods(['error'], 'a logger with error(obj, msg) (and info; pino fits)'),
} as const satisfies OptionsSchema & Record<keyof ShutdownOptions, OptionRule>;

type ShutdownLog = Record<'info' | 'fail', (obj: object, msg: string) => void>;

/** The logger's `info` and `error`, each contained: logging never breaks shutdown. */
function shutdownLog(logger: ShutdownOptions['logger']): ShutdownLog {
  return {
    info: (obj, msg) => {
      try {
        logger?.info?.(obj, msg);
      } catch {
        // never let logging break shutdown
      }
    },
    fail: (obj, msg) => {
      try {
        logger?.error(obj, msg);
      } catch {
        // idem
      }
    },
  };
}

/** Runs the closers in order, each bounded by `timeoutMs`; a failing one is logged, the next still runs. */
async function runClosers(
  closers: Closer[],
  timeoutMs: number,
  { info, fail }: ShutdownLog,
): Promise<boolean> {
  let clean = true;
  for (const closer of closers) {
    try {
      const result = await bounded(Promise.resolve().then(closer.close), timeoutMs);
      if (result === TIMED_OUT) {
        clean = false;
        fail({ closer: closer.name, timeout_ms: timeoutMs }, `shutdown: closing ${closer.name} timed out`);
      } else {
        info({ closer: closer.name }, `shutdown: closed ${closer.name}`);
      }
    } catch (err) {
      clean = false;
      fail({ err, closer: closer.name }, `shutdown: closing ${closer.name} failed`);
    }
  }
  return clean;
}

/**
 * Graceful shutdown, once: on the first of `signals` (or `run(reason)`) readiness turns 503
 * (`health.setShuttingDown()`), after `delayMs` the `server` is drained without resetting a request,
 * (`stop()`), then the closers run in order (each bounded by `timeoutMs`, a failing one logged and
 * the others still run) and `health.close()`; then `exit` (by default `process.exit(0 or 1)` when
 * signals are handled). Defaults: `DEFAULT_SHUTDOWN_OPTIONS`. Throws `DeiaHealthError` (`DEIA_SHUTDOWN_OPTIONS`) on bad
 * options; never throws once running (failures are logged).
 */
export function createShutdown(options: ShutdownOptions = {}): Shutdown {
  checkOptions('createShutdown', options, SHUTDOWN_OPTIONS_SCHEMA, failShutdown);
  const { health, server, stop, logger } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_SHUTDOWN_OPTIONS.timeoutMs;
  const delayMs = options.delayMs ?? DEFAULT_SHUTDOWN_OPTIONS.delayMs;
  const drainer = server ? serverDrainer(server) : undefined;
  const signals = options.signals === false ? [] : (options.signals ?? DEFAULT_SHUTDOWN_OPTIONS.signals);
  const closers: Closer[] = [];
  for (const c of options.closers ?? []) addCloser(c.name, c.close);
  const exitOption = options.exit ?? signals.length > 0;
  const exit =
    typeof exitOption === 'function'
      ? exitOption
      : exitOption
        ? (code: number) => process.exit(code)
        : undefined;

  function addCloser(name: string, close: () => unknown): void {
    if (typeof name !== 'string' || typeof close !== 'function') {
      throw new DeiaHealthError(
        'DEIA_SHUTDOWN_OPTIONS',
        'closers need { name: string, close: () => unknown }.',
      );
    }
    closers.push({ name, close });
  }

  const { info, fail } = shutdownLog(logger);

  let running: Promise<void> | undefined;

  const shutdown = async (reason: string): Promise<void> => {
    const started = performance.now();
    let clean = true;
    info({ reason }, 'shutdown: started');
    health?.setShuttingDown();
    if (delayMs > 0) await sleep(delayMs);
    try {
      if (drainer) {
        const drained = await drainer.close(timeoutMs, !stop);
        if (!drained) {
          clean = false;
          fail(
            { timeout_ms: timeoutMs },
            'shutdown: in-flight requests did not finish in time; connections closed',
          );
        }
      }
      if (stop) {
        const result = await bounded(Promise.resolve().then(stop), timeoutMs);
        if (result === TIMED_OUT) {
          clean = false;
          fail({ timeout_ms: timeoutMs }, 'shutdown: stop() did not finish in time');
        }
      }
    } catch (err) {
      clean = false;
      fail({ err }, 'shutdown: stopping the server failed');
    }
    if (!(await runClosers([...closers], timeoutMs, { info, fail }))) clean = false;
    try {
      if (health) await bounded(Promise.resolve(health.close()), timeoutMs);
    } catch (err) {
      clean = false;
      fail({ err }, 'shutdown: health.close() failed');
    }
    info({ reason, duration_ms: Math.round(performance.now() - started), clean }, 'shutdown: done');
    if (exit) exit(clean ? 0 : 1);
  };

  const run = (reason = 'shutdown requested'): Promise<void> => {
    running ??= shutdown(reason).catch((err: unknown) => {
      fail({ err }, 'shutdown: unexpected error');
      exit?.(1);
    });
    return running;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (running) {
      // a second signal while draining: the operator insists
      fail({ signal }, 'shutdown: second signal, exiting now');
      exit?.(1);
      return;
    }
    void run(signal);
  };
  for (const s of signals) process.on(s, onSignal);

  return {
    run,
    addCloser,
    dispose() {
      for (const s of signals) process.removeListener(s, onSignal);
      drainer?.dispose();
    },
  };
}
