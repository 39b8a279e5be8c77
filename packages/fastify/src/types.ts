import type { AddressInfo } from 'node:net';
import type { Health, Shutdown, ShutdownSettings } from '@deia/health';
import type { HttpObservabilityOptions } from '@deia/metrics';
import type { HttpObserver } from '@deia/metrics/adapter';

/** Graceful-shutdown settings (`ShutdownSettings` of `@deia/health`, defined once there); `health` and `stop` are filled in. */
export type DeiaShutdownOptions = ShutdownSettings;

/**
 * Options of the `deiaFastify` plugin: the shared HTTP options of `@deia/metrics` (`metrics`,
 * `health`, `metricsPath`, `metricsAuth`, `metricsPort`, `metricsHost`, `metricsSource`, `metricsMaxInFlight`, `metricsTimeoutMs`, `exclude`,
 * `abortedStatus`, `maxRoutes`, `logger`, `accessLog`) plus `shutdown`.
 */
export interface DeiaFastifyOptions extends Omit<HttpObservabilityOptions, 'health'> {
  /** A `createHealth()` handle: its endpoints are served, excluded from metrics, and turned 503 at shutdown. */
  health?: Health;
  /**
   * Graceful shutdown: `true` or settings turn it on. It is armed at `ready()`, when the app's
   * server is known (as `@deia/express` arms it at `attach(server)`): on SIGTERM/SIGINT (or
   * `app.deia.shutdown.run()`) readiness turns 503, `app.close()` drains in-flight requests, the
   * closers run, then the process exits.
   * @default undefined (off)
   */
  shutdown?: boolean | DeiaShutdownOptions;
}

/** What the plugin decorates the instance with, as `app.deia`. */
export interface DeiaFastifyDecoration {
  /** The framework-neutral core (label rules, endpoints). */
  readonly observer: HttpObserver;
  /** The shutdown handle once ready with `shutdown` on, else `undefined`. */
  readonly shutdown: Shutdown | undefined;
  /** Address of the `metricsPort` server once the app is ready. */
  metricsAddress(): AddressInfo | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by `@deia/fastify`. */
    deia: DeiaFastifyDecoration;
  }
}
