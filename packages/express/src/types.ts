import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Health, Shutdown, ShutdownSettings } from '@deia/health';
import type { HttpObservabilityOptions } from '@deia/metrics';
import type { HttpObserver } from '@deia/metrics/adapter';

/** Graceful-shutdown settings (`ShutdownSettings` of `@deia/health`, defined once there); `health` and the server are filled in. */
export type DeiaShutdownOptions = ShutdownSettings;

/**
 * Options of `deiaExpress`: the shared HTTP options of `@deia/metrics` (`metrics`, `health`,
 * `metricsPath`, `metricsAuth`, `metricsPort`, `metricsHost`, `metricsSource`, `metricsMaxInFlight`, `metricsTimeoutMs`, `exclude`,
 * `abortedStatus`, `maxRoutes`, `logger`, `accessLog`) plus `shutdown`.
 */
export interface DeiaExpressOptions extends Omit<HttpObservabilityOptions, 'health'> {
  /** A `createHealth()` handle: its endpoints are served, excluded from metrics, and turned 503 at shutdown. */
  health?: Health;
  /**
   * Graceful shutdown: `true` or settings turn it on. It is armed when the middleware learns the
   * app's server (`middleware.attach(server)`), as `@deia/fastify` arms it at `ready()`: on
   * SIGTERM/SIGINT (or `shutdown.run()`) readiness turns 503, the server stops accepting, in-flight
   * requests finish (bounded by `timeoutMs`), the closers run, then the process exits.
   * @default undefined (off)
   */
  shutdown?: boolean | DeiaShutdownOptions;
  /**
   * Express 4: full templates of routers mounted with parameters (`['/bots/:botId']`).
   * Express 4 keeps its mount paths in private state, so the mount part of a route is recovered
   * from the matched URL: by these templates, by a sub-app's `app.path()`, and otherwise by
   * replacing id-like segments (numbers, UUIDs, hex, dates) with `#val`. List a mount here when
   * its ids are slugs (`/bots/alpha`) or to get `:botId` instead of `#val`. Express 5 reads its
   * mount paths from `app.router`; only routes under a mount the router does not keep (router
   * 2.2) use this option there.
   */
  mounts?: readonly string[];
}

/** The middleware `deiaExpress` returns, with a few handles. */
export interface DeiaExpressMiddleware {
  /**
   * The middleware: answers the SDK's own paths (metrics, health), records every other request not
   * excluded, and calls `next()`; an endpoint that fails goes to `next(err)`.
   */
  (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void;
  /** The framework-neutral core (label rules, endpoints). */
  readonly observer: HttpObserver;
  /**
   * Tells the middleware the app's server (the one `app.listen()` returns). From here on, as at
   * `ready()` in `@deia/fastify`: the `metricsPort` server binds once that server listens, and with
   * `shutdown` graceful shutdown is armed. Returns the shutdown handle (`undefined` without
   * `shutdown`); calling it again with the same server returns the same handle.
   */
  attach(server: Server): Shutdown | undefined;
  /** The shutdown handle once attached with `shutdown` on, else `undefined`. */
  readonly shutdown: Shutdown | undefined;
  /**
   * Resolves once the `metricsPort` server listens, which is after `attach(server)` and the app's
   * server listening (at once without `metricsPort`).
   */
  readonly ready: Promise<AddressInfo | undefined>;
  /** Stops the `metricsPort` server (also done by the shutdown). */
  close(): Promise<void>;
}
