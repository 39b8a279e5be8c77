import type { DashboardSpec, PanelContext } from './builder.js';

type Row = DashboardSpec['rows'][number];

export function requestsDashboard(c: PanelContext): DashboardSpec {
  return {
    file: 'request-metrics.json',
    uid: c.uid('request-metrics'),
    title: 'DEIA / Request Metrics',
    rows: [requestsRow(c), sloRow(c)],
  };
}

/** Request rate by route, responses by status, percentiles, slowest routes, error ratio, sizes. */
function requestsRow(c: PanelContext): Row {
  const { p, m, rate, rec, percentiles } = c;
  const { latency, errors } = c.thresholds;
  return {
    id: 1,
    title: 'Requests',
    panels: [
      {
        id: 2,
        title: 'Request rate by route',
        kind: 'timeseries',
        unit: 'reqps',
        queries: [{ expr: rec(`job_route:${p}http_requests:rate5m`), legend: '{{route}}' }],
      },
      {
        id: 3,
        title: 'Responses by status',
        kind: 'timeseries',
        unit: 'reqps',
        queries: [{ expr: rate('http_requests_total', 'status'), legend: '{{status}}' }],
      },
      {
        id: 4,
        title: 'Response time percentiles',
        kind: 'timeseries',
        unit: 's',
        queries: percentiles('http_request_duration_seconds'),
        thresholds: latency,
      },
      {
        id: 5,
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
        id: 6,
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
        id: 7,
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
  };
}

/** The availability and latency SLO ratios by window. */
function sloRow(c: PanelContext): Row {
  const { o, p, rec, errRatio } = c;
  return {
    id: 8,
    title: 'SLO',
    panels: [
      {
        id: 9,
        title: 'Availability error ratio by window',
        kind: 'timeseries',
        unit: 'percentunit',
        queries: ['5m', '1h', '6h', '1d', '3d'].map((w) => ({ expr: errRatio(w), legend: w })),
        thresholds: { warning: 1 - o.sloTarget },
      },
      {
        id: 10,
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
  };
}
