// Type-level checks against @types/express 5: the middleware fits app.use, options are checked.
import { createHealth, type Shutdown } from '@deia/health';
import { createMetrics } from '@deia/metrics';
import express from 'express';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type DeiaExpressMiddleware, deiaExpress } from '../src/index.js';

describe('types', () => {
  it('fits app.use and exposes its handles', () => {
    const metrics = createMetrics({ groups: ['http'] });
    const health = createHealth({ checks: {} });
    const deia = deiaExpress({
      metrics,
      health,
      metricsAuth: { token: 't' },
      exclude: ['/ping', /^\/static/],
    });
    const app = express();
    app.use(deia);
    expectTypeOf(deia).toEqualTypeOf<DeiaExpressMiddleware>();
    expectTypeOf(deia.attach).returns.toEqualTypeOf<Shutdown | undefined>();
    // @ts-expect-error metrics is required
    expect(() => deiaExpress({})).toThrow(/metrics is required/);
    // @ts-expect-error metricsAuth is a token or username/password
    expect(() => deiaExpress({ metrics, metricsAuth: { bearer: 'x' } })).toThrow(/metricsAuth/);
    health.close();
  });
});
