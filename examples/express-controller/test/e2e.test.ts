// End to end for the express controller: against real PostgreSQL, its own Redis, an Ollama-like
// server, and a real Prometheus + Alertmanager loaded with the generated ops files; faults injected
// one at a time must reach the webhook receiver firing, then resolved. The suite lives in
// ./e2e/suite.ts and is shared with examples/fastify-controller/test/e2e.test.ts; the two files
// run in parallel (own ports, Redis, Prometheus, Alertmanager and schema each).
import { describeAlertingEndToEnd } from './e2e/suite.js';
import { setRunDeadline } from './e2e/wait.js';

// Every wait is clipped to this, so the file stays under ~8 minutes even if each step would time
// out (a passing run takes about 4 minutes).
setRunDeadline(Date.now() + 7 * 60_000);

describeAlertingEndToEnd('express-controller');
