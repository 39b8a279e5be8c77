// A service as a user writes it (their pg Pool or a connection string, their ioredis client),
// run as a child process by faults.int.test.ts. Any uncaught error ends it with exit code 70.
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createHealth, postgresCheck, redisCheck } from '../../src/index.js';

const fatal = (kind: string) => (err: unknown) => {
  process.stderr.write(`UNCAUGHT ${kind}: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(70);
};
process.on('uncaughtException', fatal('exception'));
process.on('unhandledRejection', fatal('rejection'));

const env = (name: string) => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};
const pgUrl = `postgres://postgres@127.0.0.1:${env('PG_PORT')}/test`;
const timeoutMs = Number(env('TIMEOUT_MS'));
const refreshIntervalMs = Number(env('REFRESH_MS'));

let pool: pg.Pool | undefined;
if (env('PG_MODE') === 'pool') {
  // as the README advises: an error listener and a connection timeout on the app's pool
  pool = new pg.Pool({ connectionString: pgUrl, max: 4, connectionTimeoutMillis: timeoutMs });
  pool.on('error', () => undefined);
}
const redis = new Redis(Number(env('REDIS_PORT')), '127.0.0.1', { lazyConnect: false });
redis.on('error', () => undefined);

const health = createHealth({
  refreshIntervalMs,
  cacheTtlMs: refreshIntervalMs > 0 ? 2000 : 0,
  defaults: { timeoutMs },
  checks: {
    database: postgresCheck(pool ?? { connectionString: pgUrl }, { timeoutMs }),
    cache: redisCheck(redis, { timeoutMs }),
  },
});

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        fds: readdirSync('/proc/self/fd').length,
        pool: pool ? { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } : null,
      }),
    );
    return;
  }
  if (url.pathname === '/loop') {
    // n sequential runs of the database check (cacheTtlMs 0: every run queries)
    const n = Number(url.searchParams.get('n') ?? '1');
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const r = await health.run(['database']);
      const s = r.checks.database!.rawStatus;
      counts[s] = (counts[s] ?? 0) + 1;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(counts));
    return;
  }
  const out = await health.handle({ method: req.method ?? 'GET', path: url.pathname, headers: {} });
  if (!out) {
    res.statusCode = 404;
    res.end();
    return;
  }
  res.writeHead(out.statusCode, out.headers);
  res.end(out.body);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`READY ${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', async () => {
  server.close();
  await health.close();
  await pool?.end().catch(() => undefined);
  redis.disconnect();
  process.exit(0);
});
