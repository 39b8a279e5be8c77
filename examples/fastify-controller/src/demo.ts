// `pnpm demo`: bounded traffic against the controller on 127.0.0.1:$PORT so the dashboards move.
// DEMO_SECONDS (default 60) and DEMO_RPS (default 10) tune it.
import { runDemo } from '@deia/example-bot-core';

await runDemo();
