// End to end for the fastify controller: the suite shared with the express example (the
// controllers share the bot core and differ in the framework adapter, which is what the alerts
// observe), see examples/express-controller/test/e2e/suite.ts. Runs in parallel with the express
// file, each with its own ports, Redis, Prometheus, Alertmanager and schema.
import { describeAlertingEndToEnd } from '../../express-controller/test/e2e/suite.js';
import { setRunDeadline } from '../../express-controller/test/e2e/wait.js';

// Every wait is clipped to this, so the file stays under ~8 minutes even if each step would time
// out (a passing run takes about 2.5 minutes).
setRunDeadline(Date.now() + 7 * 60_000);

describeAlertingEndToEnd('fastify-controller');
