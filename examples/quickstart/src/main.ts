// The smallest useful set-up: the catalog in a registry, a couple of domain metrics, /metrics.
import { createServer } from 'node:http';
import { createMetrics } from '@deia/metrics';

const metrics = createMetrics({ defaultLabels: { service: 'quickstart' } });
let queue: number[] = [];
metrics.observeQueue(() => queue.length);

const server = createServer(async (req, res) => {
  if (req.url === '/metrics') {
    res.setHeader('content-type', metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
    return;
  }
  queue.push(Date.now());
  await metrics.bots.trackStartup('bot-1', () => new Promise((r) => setTimeout(r, 20)));
  queue = queue.slice(1);
  res.end('started bot-1\n');
});

const port = Number(process.env.PORT ?? 8000);
server.listen(port, '127.0.0.1', () => {
  console.log(`quickstart listening: http://127.0.0.1:${port}/ (starts a bot), metrics at /metrics`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close());
