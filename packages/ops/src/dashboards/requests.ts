import type { DashboardSpec, PanelContext } from './builder.js';

export function requestsDashboard(c: PanelContext): DashboardSpec {
  const { o, p, m, rate, rec, errRatio, percentiles, uid } = c;
  const { latency, errors } = c.thresholds;
  return {
    file: 'request-metrics.json',
    uid: uid('request-metrics'),
    title: 'DEIA / Request Metrics',
    rows: [
      {
        title: 'Requests',
        panels: [
          {
            title: 'Request rate by route',
            kind: 'timeseries',
            unit: 'reqps',
            queries: [{ expr: rec(`job_route:${p}http_requests:rate5m`), legend: '{{route}}' }],
          },
          {
            title: 'Responses by status',
            kind: 'timeseries',
            unit: 'reqps',
            queries: [{ expr: rate('http_requests_total', 'status'), legend: '{{status}}' }],
          },
          {
            title: 'Response time percentiles',
            kind: 'timeseries',
            unit: 's',
            queries: percentiles('http_request_duration_seconds'),
            thresholds: latency,
          },
          {
            title: 'Slowest routes (p95)',
            kind: 'timeseries',
            unit: 's',
            queries: [
              {
                expr: `topk(10, ${rec(`job_route:${p}http_request_duration_seconds:p95_5m`)})`,
                legend: '{{route}}',
              },
            ],
            thresholds: latency,
          },
          {
            title: 'Error ratio by route',
            kind: 'timeseries',
            unit: 'percentunit',
            queries: [
              {
                expr: `topk(10, ${rec(`job_route:${p}http_request_errors:ratio_rate5m`)})`,
                legend: '{{route}}',
              },
            ],
            thresholds: errors,
          },
          {
            title: 'Average request / response size',
            kind: 'timeseries',
            unit: 'bytes',
            queries: [
              {
                expr: `sum(rate(${m('http_request_size_bytes_sum')}[$__rate_interval])) / sum(rate(${m('http_request_size_bytes_count')}[$__rate_interval]))`,
                legend: 'request',
              },
              {
                expr: `sum(rate(${m('http_response_size_bytes_sum')}[$__rate_interval])) / sum(rate(${m('http_response_size_bytes_count')}[$__rate_interval]))`,
                legend: 'response',
              },
            ],
          },
        ],
      },
      {
        title: 'SLO',
        panels: [
          {
            title: 'Availability error ratio by window',
            kind: 'timeseries',
            unit: 'percentunit',
            queries: ['5m', '1h', '6h', '1d', '3d'].map((w) => ({ expr: errRatio(w), legend: w })),
            thresholds: { warning: 1 - o.sloTarget },
          },
          {
            title: `Ratio of requests slower than ${o.latencySlo.thresholdSeconds}s`,
            kind: 'timeseries',
            unit: 'percentunit',
            queries: ['5m', '1h', '6h', '1d', '3d'].map((w) => ({
              expr: rec(`job:${p}http_request_slow:ratio_rate${w}`),
              legend: w,
            })),
            thresholds: { warning: 1 - o.latencySlo.target },
          },
        ],
      },
    ],
  };
}
