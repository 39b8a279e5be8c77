// One cell of the version matrix (scripts/matrix.mjs). Copied into a fresh project that installed
// the packed @deia tarballs and one set of framework/client versions, and run there:
//   node matrix-cell.mjs <express|fastify> <prom-client|@prometheus-io/client>
// Serves the same app on the framework, drives a fixed traffic script, scrapes /metrics through the
// adapter and prints one JSON line: versions, the HTTP exposition (timing values masked) and how
// many public inc()/observe() calls reached the HTTP handles (the fast path makes none per request).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [framework, clientName] = process.argv.slice(2);
if (!['express', 'fastify'].includes(framework) || !clientName) {
  console.error('usage: node matrix-cell.mjs <express|fastify> <prom-client|@prometheus-io/client>');
  process.exit(2);
}
const version = (name) => require(`${name}/package.json`).version;
const timer = setTimeout(() => {
  console.error('matrix cell: no result after 60 s');
  process.exit(1);
}, 60_000);
timer.unref();

const { createMetrics } = await import('@deia/metrics');
const client = require(clientName);
const metrics = createMetrics({ client, registry: new client.Registry(), groups: ['http'] });

// Count the handles' public inc()/observe(): the path a request takes when the fast path is off.
let publicCalls = 0;
// all four series a request records into: each has its own fast path and can fall off it alone
for (const name of [
  'http_requests_total',
  'http_request_duration_seconds',
  'http_request_size_bytes',
  'http_response_size_bytes',
]) {
  const h = metrics.get(name);
  for (const fn of ['inc', 'observe'].filter((f) => typeof h[f] === 'function')) {
    const original = h[fn];
    h[fn] = (...args) => {
      publicCalls++;
      return original(...args);
    };
  }
}
// app code creates a series first (2 public calls): the adapter must still record into it directly
const appLabels = { method: 'GET', route: '/api/bots/:id', status: '200' };
metrics.http.requests.inc(appLabels);
metrics.http.duration.observe(appLabels, 0.001);

const NOT_FOUND = { error: 'not found' };
const BOOM = { error: 'boom' };
let base;
let close;
if (framework === 'express') {
  const express = require('express');
  const { deiaExpress } = await import('@deia/express');
  const app = express();
  // Express 4 (and router 2.2) recover mount templates from the URL: the param mount is named
  app.use(deiaExpress({ metrics, mounts: ['/api/v1/users/:userId'] }));
  app.get('/api/bots/:id', (req, res) => res.json({ id: req.params.id }));
  app.post('/api/bots/:id/start', express.json(), (_req, res) => res.json({ started: true }));
  const v1 = express.Router();
  const users = express.Router();
  users.get('/posts/:postId', (req, res) => res.json({ post: req.params.postId }));
  v1.use('/users/:userId', users);
  v1.get('/throw', () => {
    throw new Error('sync boom');
  });
  app.use('/api/v1', v1);
  app.use((_req, res) => res.status(404).json(NOT_FOUND));
  app.use((_err, _req, res, _next) => res.status(500).json(BOOM));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  base = `http://127.0.0.1:${server.address().port}`;
  close = () => new Promise((r) => server.close(r));
} else {
  const fastify = require('fastify');
  const { deiaFastify } = await import('@deia/fastify');
  const app = fastify({ logger: false });
  await app.register(deiaFastify, { metrics });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send(NOT_FOUND));
  app.setErrorHandler((_err, _req, reply) => reply.code(500).send(BOOM));
  app.get('/api/bots/:id', async (req) => ({ id: req.params.id }));
  app.post('/api/bots/:id/start', async () => ({ started: true }));
  await app.register(
    async (v1) => {
      await v1.register(
        async (users) => {
          users.get('/posts/:postId', async (req) => ({ post: req.params.postId }));
        },
        { prefix: '/users/:userId' },
      );
      v1.get('/throw', () => {
        throw new Error('sync boom');
      });
    },
    { prefix: '/api/v1' },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${app.server.address().port}`;
  close = () => app.close();
}

const script = [
  ['/api/bots/1'],
  ['/api/bots/2?verbose=1'],
  ['/api/bots/1/start', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' }],
  ['/api/v1/users/5/posts/9'],
  ['/api/v1/users/6/posts/10'],
  ['/api/v1/throw'],
  ['/nope/123'],
  ['/api/bots/3', { method: 'HEAD' }],
  ['/api/bots/1', { method: 'PROPFIND' }],
  ['/metrics'], // the adapter's own endpoint: never recorded
];
const ROUNDS = 3;
const statuses = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const [path, init] of script) {
    const res = await fetch(base + path, init);
    await res.arrayBuffer();
    if (round === 0) statuses.push(res.status);
  }
}
// responses are recorded on 'close': poll with a deadline
const expected = 1 + ROUNDS * (script.length - 1);
const deadline = Date.now() + 5000;
for (;;) {
  const total = (await metrics.http.requests.metric.get()).values.reduce((s, v) => s + v.value, 0);
  if (total === expected) break;
  if (Date.now() > deadline) throw new Error(`expected ${expected} recorded requests, have ${total}`);
  await new Promise((r) => setTimeout(r, 10));
}
const scraped = await (await fetch(`${base}/metrics`)).text();
await close();
const lines = scraped
  .split('\n')
  .filter((l) => /^(# (HELP|TYPE) )?http_/.test(l))
  // durations are wall-clock: keep their series and counts, mask the buckets' and sums' values
  .map((l) => l.replace(/^(http_request_duration_seconds_(?:bucket|sum)\{[^}]*\}) .*$/, '$1 <time>'));
const versions = {
  node: process.version,
  [framework]: version(framework),
  [clientName]: version(clientName),
};
if (framework === 'express') {
  try {
    versions.router = createRequire(require.resolve('express/package.json'))('router/package.json').version;
  } catch {} // Express 4 has its own router
}
console.log(JSON.stringify({ versions, statuses, publicCalls, lines }));
