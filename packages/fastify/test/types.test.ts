// Type-level checks against Fastify 5's own types: register() infers the options, app.deia is declared.
import { createMetrics } from '@deia/metrics';
import Fastify from 'fastify';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type DeiaFastifyDecoration, deiaFastify } from '../src/index.js';

describe('types', () => {
  it('registers with typed options and decorates app.deia', async () => {
    const metrics = createMetrics({ groups: ['http'] });
    const app = Fastify();
    await app.register(deiaFastify, { metrics, shutdown: { signals: false, exit: false } });
    expectTypeOf(app.deia).toEqualTypeOf<DeiaFastifyDecoration>();
    const bad = Fastify();
    // @ts-expect-error abortedStatus is a number
    bad.register(deiaFastify, { metrics, abortedStatus: '499' });
    await expect(bad.ready()).rejects.toThrow(/abortedStatus/);
    await app.close();
    await bad.close();
  });
});
