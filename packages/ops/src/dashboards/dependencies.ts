import type { DashboardSpec, PanelContext, PanelSpec } from './builder.js';

export function dependenciesDashboard(c: PanelContext): DashboardSpec {
  const { o, t, m, q, rate, uid } = c;
  const { deps } = c.thresholds;
  const spec: DashboardSpec = {
    file: 'dependencies.json',
    uid: uid('dependencies'),
    title: 'DEIA / Dependencies and Operations',
    rows: [
      {
        title: 'Dependencies',
        panels: [
          {
            title: 'Health checks',
            kind: 'timeseries',
            unit: 'short',
            queries: [{ expr: `min by (check) (${m('health_check_up')})`, legend: '{{check}}' }],
          },
          {
            title: 'Dependency latency p95',
            kind: 'timeseries',
            unit: 's',
            queries: [
              {
                expr: q(0.95, 'dependency_request_duration_seconds', 'dependency, '),
                legend: '{{dependency}}',
              },
            ],
            thresholds: deps,
          },
          {
            title: 'Ollama latency p95',
            kind: 'timeseries',
            unit: 's',
            queries: [
              {
                expr: q(0.95, 'llm_request_duration_seconds', 'model, operation, '),
                legend: '{{model}} {{operation}}',
              },
            ],
            thresholds: deps,
          },
          {
            title: 'Ollama errors',
            kind: 'timeseries',
            unit: 'ops',
            queries: [
              {
                expr: rate('llm_request_errors_total', 'model, operation'),
                legend: '{{model}} {{operation}}',
              },
            ],
          },
          {
            title: 'LLM tokens per second',
            kind: 'timeseries',
            unit: 'short',
            queries: [{ expr: rate('llm_tokens_total', 'model, type'), legend: '{{model}} {{type}}' }],
          },
        ],
      },
      {
        title: 'Process',
        panels: [
          {
            title: 'Event-loop lag p99',
            kind: 'timeseries',
            unit: 's',
            queries: [{ expr: m('nodejs_eventloop_lag_p99_seconds'), legend: '{{instance}}' }],
            thresholds: { warning: t.eventLoopLag },
          },
          {
            title: 'File descriptors used',
            kind: 'timeseries',
            unit: 'percentunit',
            queries: [{ expr: `${m('process_open_fds')} / ${m('process_max_fds')}`, legend: '{{instance}}' }],
            thresholds: { warning: t.fileDescriptors },
          },
          {
            title: 'Uptime',
            kind: 'stat',
            unit: 's',
            queries: [{ expr: `min(${m('process_uptime_seconds')})` }],
          },
          // Opt-in: the SDK has no helper writing these (options.optional.websocket / .auth).
          ...(o.optional.websocket
            ? ([
                {
                  title: 'WebSocket connections',
                  kind: 'timeseries',
                  unit: 'short',
                  queries: [{ expr: `sum(${m('websocket_connections')})`, legend: 'open' }],
                },
                {
                  title: 'WebSocket disconnects per minute',
                  kind: 'timeseries',
                  unit: 'short',
                  queries: [
                    { expr: `${rate('websocket_disconnect_total', 'reason')} * 60`, legend: '{{reason}}' },
                  ],
                  thresholds: { warning: t.websocketDisconnectsPerMinute },
                },
              ] satisfies PanelSpec[])
            : []),
          ...(o.optional.auth
            ? ([
                {
                  title: 'Auth failures in 5m',
                  kind: 'timeseries',
                  unit: 'short',
                  queries: [{ expr: `sum(increase(${m('auth_failures_total')}[5m]))`, legend: 'failures' }],
                  thresholds: { warning: t.authFailures },
                },
              ] satisfies PanelSpec[])
            : []),
          {
            title: 'Rate-limited requests',
            kind: 'timeseries',
            unit: 'reqps',
            queries: [
              {
                expr: `sum(rate(${m('rate_limited_requests_total')}[$__rate_interval]))`,
                legend: 'rate limited',
              },
            ],
          },
        ],
      },
    ],
  };
  if (o.nodeExporter.enabled) {
    // node_exporter is its own job with its own instances: only `$cluster` applies to it.
    const cluster = o.grafana.clusterVariable ? 'cluster=~"$cluster",' : '';
    const fs = `${cluster}job="${o.nodeExporter.job}",fstype!~"tmpfs|devtmpfs|overlay|squashfs|ramfs|nsfs|fuse.lxcfs"`;
    spec.rows.push({
      title: 'Host (node_exporter)',
      panels: [
        {
          title: 'Disk free',
          kind: 'timeseries',
          unit: 'percentunit',
          queries: [
            {
              expr: `node_filesystem_avail_bytes{${fs}} / node_filesystem_size_bytes{${fs}}`,
              legend: '{{instance}} {{mountpoint}}',
            },
          ],
          thresholds: { warning: t.diskFreeWarning, critical: t.diskFreeCritical, lowerIsWorse: true },
        },
      ],
    });
  }
  return spec;
}
