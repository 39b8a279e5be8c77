// End to end, for both example controllers: each against real PostgreSQL, its own Redis, an
// Ollama-like server, and a real Prometheus + Alertmanager loaded with the generated ops files;
// faults injected one at a time must reach the webhook receiver firing, then resolved.
// The suite lives in ./e2e/suite.ts; the controllers differ only in the framework adapter.
// The two controllers' suites run concurrently (own ports, Redis, Prometheus, Alertmanager,
// schema); the scenarios within each run in order.
import { describe } from 'vitest';
import { describeAlertingEndToEnd } from './e2e/suite.js';
import { setRunDeadline } from './e2e/wait.js';

// Every wait is clipped to this, so the file stays under ~8 minutes even if each step would time
// out (a passing run takes about 2.5 minutes).
setRunDeadline(Date.now() + 7 * 60_000);

describe.concurrent('alerting end to end', () => {
  describeAlertingEndToEnd('express-controller');
  describeAlertingEndToEnd('fastify-controller');
});
