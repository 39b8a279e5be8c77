import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_HTTP_OPTIONS,
  type HttpObservabilityOptions,
  type HttpRequestInfo,
  type HttpResponse,
  type MetricsAuth,
  type MetricsSource,
} from './http-options.js';
import type { ErrorLog } from './http-paths.js';
import { createScraper, DEFAULT_SCRAPE_LIMITS } from './scrape.js';

/**
 * The SDK's own endpoints: `/metrics` (method, auth, render), the health paths, and the
 * `metricsPort` server that answers `/metrics` on a port of its own.
 */

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time check of an `Authorization` header against the configured credentials. */
function authChecker(auth: MetricsAuth | undefined): ((header: string | undefined) => boolean) | undefined {
  if (!auth) return undefined;
  const scheme = 'token' in auth ? 'bearer' : 'basic';
  const secret =
    'token' in auth ? auth.token : Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  const expected = sha256(secret);
  return (header) => {
    if (typeof header !== 'string') return false;
    const space = header.indexOf(' ');
    const given = space < 0 ? '' : header.slice(space + 1).trim();
    const ok = timingSafeEqual(sha256(given), expected);
    return ok && header.slice(0, space).toLowerCase() === scheme;
  };
}

/** Answers one request to the metrics endpoint. */
export type ScrapeHandler = (req: HttpRequestInfo) => Promise<HttpResponse>;

/**
 * The scrape/render hookup: a handler that answers 405 to methods other than GET and HEAD, 401
 * without the configured credentials, 503 over the scrape limits (`metricsMaxInFlight`,
 * `metricsTimeoutMs`), 500 when rendering fails (logged), else the exposition of `metricsSource`
 * (default: the registry of `metrics`). It never rejects for a failed render.
 */
export function createScrapeHandler(options: HttpObservabilityOptions, logError: ErrorLog): ScrapeHandler {
  const source: MetricsSource = options.metricsSource ?? options.metrics.registry;
  const checkAuth = authChecker(options.metricsAuth);
  const authScheme = options.metricsAuth && ('token' in options.metricsAuth ? 'Bearer' : 'Basic');
  const scrapeSource = createScraper(
    {
      ...DEFAULT_SCRAPE_LIMITS,
      maxInFlight: options.metricsMaxInFlight ?? DEFAULT_SCRAPE_LIMITS.maxInFlight,
      timeoutMs: options.metricsTimeoutMs ?? DEFAULT_SCRAPE_LIMITS.timeoutMs,
      createdTimestamps: options.metricsCreatedTimestamps === true,
    },
    (err) => logError(err, '@deia/metrics: /metrics answered 503'),
  );
  return async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return {
        statusCode: 405,
        headers: { allow: 'GET, HEAD', 'content-type': 'text/plain' },
        body: 'Method Not Allowed\n',
      };
    }
    if (checkAuth) {
      const header = req.headers.authorization;
      if (!checkAuth(Array.isArray(header) ? header[0] : header)) {
        return {
          statusCode: 401,
          headers: { 'www-authenticate': `${authScheme} realm="metrics"`, 'content-type': 'text/plain' },
          body: 'Unauthorized\n',
        };
      }
    }
    try {
      return await scrapeSource(source, req.headers);
    } catch (err) {
      logError(err, '@deia/metrics: rendering /metrics failed');
      return {
        statusCode: 500,
        headers: { 'content-type': 'text/plain' },
        body: 'metrics collection failed\n',
      };
    }
  };
}

/**
 * `HttpObserver.serve`: routes a request to `scrape` when its path (trailing slash ignored) is
 * `metricsPath`, else to `health` (whose failures, thrown or rejected, answer 500 and are logged);
 * `undefined` when the path is none of the SDK's.
 */
export function createServe(
  metricsPath: string | false,
  health: HttpObservabilityOptions['health'],
  scrape: ScrapeHandler,
  logError: ErrorLog,
): (req: HttpRequestInfo) => Promise<HttpResponse> | undefined {
  return (req) => {
    const path = req.path.length > 1 && req.path.endsWith('/') ? req.path.slice(0, -1) : req.path;
    if (path === metricsPath) return scrape(req);
    if (health === undefined) return undefined;
    try {
      return health.handle(path === req.path ? req : { ...req, path })?.catch((err: unknown) => {
        logError(err, '@deia/metrics: a health endpoint failed');
        return { statusCode: 500, headers: { 'content-type': 'text/plain' }, body: 'health check failed\n' };
      });
    } catch (err) {
      logError(err, '@deia/metrics: a health endpoint failed');
      return Promise.resolve({
        statusCode: 500,
        headers: { 'content-type': 'text/plain' },
        body: 'health check failed\n',
      });
    }
  };
}

/** The `metricsPort` server's lifecycle: `HttpObserver.listen`, `metricsAddress` and the server half of `close`. */
export interface MetricsPort {
  listen(): Promise<AddressInfo | undefined>;
  address(): AddressInfo | undefined;
  close(): Promise<void>;
}

/**
 * The `metricsPort` server: when `ownPort`, `listen` starts a server on `options.metricsPort` /
 * `metricsHost` answering `path` (trailing slash and query ignored) with `scrape` and 404
 * elsewhere; a second `listen` returns the address it has. A listen error rejects; later server
 * errors are logged, never thrown. `close` drops open connections first, then waits for the close.
 */
export function createMetricsPort(
  options: Pick<HttpObservabilityOptions, 'metricsPort' | 'metricsHost'>,
  ownPort: boolean,
  path: string | false,
  scrape: ScrapeHandler,
  logError: ErrorLog,
): MetricsPort {
  let server: Server | undefined;
  const listen = async (): Promise<AddressInfo | undefined> => {
    if (!ownPort || path === false) return undefined;
    if (server?.listening) return server.address() as AddressInfo;
    const s = createServer((req, res) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const p = q < 0 ? url : url.slice(0, q);
      if (p !== path && p !== `${path}/`) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
        return;
      }
      void scrape({ method: req.method ?? 'GET', path: p, headers: req.headers }).then(
        (r) => res.writeHead(r.statusCode, r.headers).end(r.body),
        (err: unknown) => {
          logError(err, 'metrics port: scrape failed');
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end();
        },
      );
    });
    server = s;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(options.metricsPort, options.metricsHost ?? DEFAULT_HTTP_OPTIONS.metricsHost, () => {
        s.off('error', reject);
        // an error of the listening server later (e.g. EMFILE on accept) is logged, never a crash
        s.on('error', (err) => logError(err, 'metrics port: server error'));
        resolve();
      });
    });
    return s.address() as AddressInfo;
  };
  const close = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (s?.listening) {
      // close() waits for open connections: a scraper's idle keep-alive socket would hold it
      // for the keep-alive timeout, so connections go first
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      await closed;
    }
  };
  const address = () => (server?.listening ? (server.address() as AddressInfo) : undefined);
  return { listen, address, close };
}
