/**
 * CommonJS entry: `node --require @deia/tracing/register app.js`.
 *
 * `--require` runs before the app's first `require()`, so require-in-the-middle patches `express`, `pg`,
 * `ioredis`, ... when the app requires them. It cannot see ESM `import`s: for an ESM app use `--import`.
 */
import { isMainThread } from 'node:worker_threads';
import { startFromEnv } from './auto-start.js';

if (isMainThread) startFromEnv();
