// One replica of a small service built with @deia/express as a user would: the fleet test starts
// two of these under one Prometheus job. FAIL_EVERY=n makes every n-th request to /api/bots answer
// 500 (the faulted replica); 0 or unset, none do.
import { deiaExpress } from '@deia/express';
import { createMetrics } from '@deia/metrics';
import express from 'express';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be a port number');
const failEvery = Number(process.env.FAIL_EVERY ?? 0);

const metrics = createMetrics({ defaultLabels: { service: 'fleet-replica' } });
const app = express();
app.use(deiaExpress({ metrics }));
let served = 0;
app.get('/api/bots', (_req, res) => {
  served++;
  if (failEvery > 0 && served % failEvery === 0) res.status(500).json({ error: 'injected fault' });
  else res.json({ bots: [] });
});
app.listen(port, '127.0.0.1');
