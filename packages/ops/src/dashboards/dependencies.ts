import type { DashboardSpec, PanelContext, PanelSpec } from './builder.js';

type Row = DashboardSpec['rows'][number];

export function dependenciesDashboard(c: PanelContext): DashboardSpec {
  const spec: DashboardSpec = {
    file: 'dependencies.json',
    uid: c.uid('dependencies'),
    title: 'DEIA / Dependencies and Operations',
    rows: [dependenciesRow(c), processRow(c)],
  };
  if (c.o.nodeExporter.enabled) spec.rows.push(hostRow(c));
  return spec;
}

/** Health checks, dependency and Ollama latency and errors, tokens and (with a price) cost. */
function dependenciesRow(c: PanelContext): Row {
  const { o, t, m, q, rate, ratio } = c;
  const errorRatio = { warning: t.dependencyErrorRatioWarning, critical: t.dependencyErrorRatioCritical };
  const { deps } = c.thresholds;
  return {
    id: 1,
    title: 'Dependencies',
    panels: [
      {
        id: 2,
        title: 'Health checks',
        kind: 'timeseries',
        unit: 'short',
        queries: [{ expr: `min by (check) (${m('health_check_up')})`, legend: '{{check}}' }],
      },
      {
        id: 3,
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
        id: 4,
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
        id: 5,
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
        id: 14,
        title: 'Dependency error ratio',
        kind: 'timeseries',
        unit: 'percentunit',
        queries: [
          {
            expr: ratio(
              'dependency',
              m('dependency_request_duration_seconds_count', 'outcome="error"'),
              m('dependency_request_duration_seconds_count'),
            ),
            legend: '{{dependency}}',
          },
        ],
        thresholds: errorRatio,
        description: `DependencyErrorRate alerts on the dependencies other than "${o.llmDependencies}" (those have ModelErrorRate, on the AI models dashboard).`,
      },
      {
        id: 15,
        title: 'Ollama error ratio',
        kind: 'timeseries',
        unit: 'percentunit',
        queries: [
          {
            expr: ratio(
              'model, operation',
              m('llm_request_errors_total'),
              m('llm_request_duration_seconds_count'),
            ),
            legend: '{{model}} {{operation}}',
          },
        ],
        thresholds: errorRatio,
      },
      {
        id: 6,
        title: 'LLM tokens per second',
        kind: 'timeseries',
        unit: 'short',
        queries: [{ expr: rate('llm_tokens_total', 'model, type'), legend: '{{model}} {{type}}' }],
      },
      // Only with a price (options.llmPricePer1kTokens): without one the token panel above is all.
      ...costPanels(c),
    ],
  };
}

/** The estimated cost per hour, when options.llmPricePer1kTokens sets a price. */
function costPanels(c: PanelContext): PanelSpec[] {
  const { o, m } = c;
  const price = o.llmPricePer1kTokens;
  if (!price) return [];
  return [
    {
      id: 16,
      title: 'Estimated LLM cost per hour',
      kind: 'timeseries',
      unit: 'currencyUSD',
      queries: [
        {
          expr: `sum by (model) (rate(${m('llm_tokens_total', 'type="prompt"')}[$__rate_interval]) * ${price.prompt} or rate(${m('llm_tokens_total', 'type="completion"')}[$__rate_interval]) * ${price.completion}) * 3600 / 1000`,
          legend: '{{model}}',
        },
      ],
      description: `llm_tokens_total priced at ${price.prompt} USD (prompt) and ${price.completion} USD (completion) per 1000 tokens, at query time: the whole range is priced at today's price.`,
    },
  ];
}

/** Event-loop lag, file descriptors, uptime, the opt-in WebSocket/auth/upload panels, rate limiting. */
function processRow(c: PanelContext): Row {
  const { o, t, m, rate } = c;
  return {
    id: 7,
    title: 'Process',
    panels: [
      {
        id: 8,
        title: 'Event-loop lag p99',
        kind: 'timeseries',
        unit: 's',
        queries: [{ expr: m('nodejs_eventloop_lag_p99_seconds'), legend: '{{instance}}' }],
        thresholds: { warning: t.eventLoopLag },
      },
      {
        id: 9,
        title: 'File descriptors used',
        kind: 'timeseries',
        unit: 'percentunit',
        queries: [{ expr: `${m('process_open_fds')} / ${m('process_max_fds')}`, legend: '{{instance}}' }],
        thresholds: { warning: t.fileDescriptors },
      },
      {
        id: 10,
        title: 'Uptime',
        kind: 'stat',
        unit: 's',
        queries: [{ expr: `min(${m('process_uptime_seconds')})` }],
      },
      // Opt-in: the SDK has no helper writing these (options.optional.websocket / .auth).
      ...(o.optional.websocket
        ? ([
            {
              id: 101,
              title: 'WebSocket connections',
              kind: 'timeseries',
              unit: 'short',
              queries: [{ expr: `sum(${m('websocket_connections')})`, legend: 'open' }],
            },
            {
              id: 102,
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
              id: 103,
              title: 'Auth failures in 5m',
              kind: 'timeseries',
              unit: 'short',
              queries: [{ expr: `sum(increase(${m('auth_failures_total')}[5m]))`, legend: 'failures' }],
              thresholds: { warning: t.authFailures },
            },
          ] satisfies PanelSpec[])
        : []),
      // Opt-in (options.optional.uploads): no series until the application records a reason.
      ...(o.optional.uploads
        ? ([
            {
              id: 104,
              title: 'Rejected uploads per minute',
              kind: 'timeseries',
              unit: 'short',
              queries: [
                { expr: `${rate('file_upload_rejected_total', 'reason')} * 60`, legend: '{{reason}}' },
              ],
            },
          ] satisfies PanelSpec[])
        : []),
      {
        id: 11,
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
  };
}

/** The host panels, from node_exporter's documented series (options.nodeExporter). */
function hostRow(c: PanelContext): Row {
  const { o, t } = c;
  // node_exporter is its own job with its own instances: only `$cluster` applies to it.
  const cluster = o.grafana.clusterVariable ? 'cluster=~"$cluster",' : '';
  const host = `${cluster}job="${o.nodeExporter.job}"`;
  const fs = `${cluster}job="${o.nodeExporter.job}",fstype!~"tmpfs|devtmpfs|overlay|squashfs|ramfs|nsfs|fuse.lxcfs"`;
  return {
    id: 12,
    title: 'Host (node_exporter)',
    panels: [
      {
        id: 13,
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
      // The guides' host panels, from node_exporter's documented series.
      {
        id: 120,
        title: 'Host CPU busy',
        kind: 'timeseries',
        unit: 'percentunit',
        queries: [
          {
            expr: `1 - avg by (instance) (rate(node_cpu_seconds_total{${host},mode="idle"}[$__rate_interval]))`,
            legend: '{{instance}}',
          },
        ],
      },
      {
        id: 121,
        title: 'Host memory used',
        kind: 'timeseries',
        unit: 'percentunit',
        queries: [
          {
            expr: `1 - node_memory_MemAvailable_bytes{${host}} / node_memory_MemTotal_bytes{${host}}`,
            legend: '{{instance}}',
          },
        ],
      },
      {
        id: 122,
        title: 'Host network I/O',
        kind: 'timeseries',
        unit: 'Bps',
        queries: [
          {
            expr: `sum by (instance) (rate(node_network_receive_bytes_total{${host},device!="lo"}[$__rate_interval]))`,
            legend: '{{instance}} in',
          },
          {
            expr: `sum by (instance) (rate(node_network_transmit_bytes_total{${host},device!="lo"}[$__rate_interval]))`,
            legend: '{{instance}} out',
          },
        ],
      },
    ],
  };
}
