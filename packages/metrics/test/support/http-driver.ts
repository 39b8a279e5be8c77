// Shared by the HTTP core tests and the prom-client matrix: a bare node:http "framework" that drives
// createHttpObserver the way the adapters do (match the path, serve the served paths, track the
// rest with the route the handler table matched), so both suites exercise the same wiring.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpObserver, type HttpObserver, PATH_RECORD, PATH_SERVED } from '../../src/adapter.js';
import { createMetrics, type HttpObservabilityOptions, type Metrics } from '../../src/index.js';

/** The app behind the observer: its route table and how a matched route answers. */
export interface DrivenApp {
  /** Path to route template; a path not listed is unmatched and answers 404 'nope'. */
  readonly routes: Readonly<Record<string, string>>;
  /** Answers a matched path. @default ends with 'hello' */
  readonly respond?: (path: string, res: ServerResponse) => void;
}

export type DriverOptions = Omit<HttpObservabilityOptions, 'metrics'> & {
  /** @default createMetrics({ groups: ['http'] }) */
  metrics?: HttpObservabilityOptions['metrics'];
};

export interface Driven {
  readonly metrics: Metrics;
  readonly observer: HttpObserver;
  /** `http://127.0.0.1:<port>` of the app. */
  readonly url: string;
  /** Resolves once `http_requests_total` sums to `n`; throws after about a second. */
  waitFor(n: number): Promise<void>;
}

/** Polls until the recorded requests of `metrics` sum to `n` (recording ends after the response). */
async function waitForRequests(metrics: Metrics, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const v = (await metrics.http.requests.metric.get()).values.reduce((s, x) => s + x.value, 0);
    if (v === n) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`not ${n} requests`);
}

/**
 * Returns `serve()`, which starts an observed app on an ephemeral port, and `close()`, which ends
 * every app and observer it started (call it from `afterEach`).
 */
export function httpDriver(adapter: string): {
  serve(app: DrivenApp, options?: DriverOptions): Promise<Driven>;
  close(): Promise<void>;
} {
  const servers: Server[] = [];
  const observers: HttpObserver[] = [];
  return {
    async serve(app, options = {}) {
      const metrics = options.metrics ?? createMetrics({ groups: ['http'] });
      const observer = createHttpObserver(
        { ...options, metrics },
        (ctx) => ctx as string | undefined,
        adapter,
      );
      observers.push(observer);
      const respond = app.respond ?? ((_path, res) => res.end('hello'));
      const server = createServer((req, res) => {
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        const path = q < 0 ? url : url.slice(0, q);
        const kind = observer.match(path);
        if (kind === PATH_SERVED) {
          void observer.serve({ method: req.method ?? 'GET', path, headers: req.headers })?.then((r) => {
            res.writeHead(r.statusCode, r.headers).end(r.body);
          });
          return;
        }
        const route = app.routes[path];
        if (kind === PATH_RECORD) observer.track(req, res, route);
        if (!route) res.writeHead(404).end('nope');
        else respond(path, res);
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return { metrics, observer, url, waitFor: (n) => waitForRequests(metrics, n) };
    },
    async close() {
      for (const s of servers.splice(0)) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
      for (const o of observers.splice(0)) await o.close();
    },
  };
}
