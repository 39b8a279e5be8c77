// End to end, for both example controllers: each against real PostgreSQL, its own Redis, an
// Ollama-like server, and a real Prometheus + Alertmanager loaded with the generated ops files;
// faults injected one at a time must reach the webhook receiver firing, then resolved.
// The suite lives in ./e2e/suite.ts; the controllers differ only in the framework adapter.
import { describeAlertingEndToEnd } from './e2e/suite.js';

describeAlertingEndToEnd('express-controller');
describeAlertingEndToEnd('fastify-controller');
