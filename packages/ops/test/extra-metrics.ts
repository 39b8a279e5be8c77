import type { MetricDefinition } from '@deia/metrics';

/**
 * Extra metrics with alerts of every kind (increase with a warning/critical pair, rate over its own
 * window, a gauge value below a threshold, a histogram quantile pair), for the tests of the rules,
 * promtool files and dashboards the generator builds from `extraMetrics`.
 */
export const EXTRA: MetricDefinition[] = [
  {
    name: 'payment_failures_total',
    type: 'counter',
    help: 'Payments that failed.',
    unit: '1',
    labelNames: ['provider'],
    group: 'custom',
    alerts: [
      { name: 'PaymentFailures', over: 'increase', threshold: 5, by: ['provider'], for: '2m' },
      {
        name: 'PaymentFailures',
        over: 'increase',
        threshold: 20,
        by: ['provider'],
        severity: 'critical',
        for: '1m',
      },
    ],
  },
  {
    name: 'webhook_deliveries_total',
    type: 'counter',
    help: 'Webhook deliveries attempted.',
    unit: '1',
    labelNames: [],
    group: 'custom',
    alerts: [{ name: 'WebhookStorm', over: 'rate', threshold: 2, window: '10m', for: '0s' }],
  },
  {
    name: 'worker_pool_idle',
    type: 'gauge',
    help: 'Idle workers.',
    unit: '1',
    labelNames: ['pool'],
    group: 'custom',
    alerts: [{ name: 'WorkersExhausted', over: 'value', threshold: 1, below: true, by: ['pool'] }],
  },
  {
    name: 'render_duration_seconds',
    type: 'histogram',
    help: 'Time to render a page.',
    unit: 'seconds',
    labelNames: ['page'],
    buckets: [0.1, 0.5, 1, 2, 5],
    group: 'custom',
    alerts: [
      { name: 'RenderSlow', over: 'quantile', quantile: 0.9, threshold: 1, by: ['page'] },
      {
        name: 'RenderSlow',
        over: 'quantile',
        quantile: 0.9,
        threshold: 2,
        by: ['page'],
        severity: 'critical',
      },
    ],
  },
];
