import type { MetricDefinition } from './types.js';

const esc = (s: string) => s.replace(/\|/g, '\\|');

/** Renders the catalog as the Markdown table in docs/metrics.md. */
export function renderMetricsMarkdown(definitions: readonly MetricDefinition[], prefix = ''): string {
  const groups = [...new Set(definitions.map((d) => d.group))];
  const lines = [
    '# Metrics reference',
    '',
    '<!-- Generated from the @deia/metrics catalog by `pnpm docs`. Do not edit; a test fails when it is stale. -->',
    '',
    'Every series `@deia/metrics` registers. Names are API: they change only with a breaking release.',
    'Label values are bounded: a label with declared values records anything else as `other`; any other',
    'label accepts a capped number of distinct values (default 100) and records the rest as `__overflow__`.',
    '',
    'Series of things that go away can go away: `metrics.removeSeries({ bot_id })` (or `metrics.bots.remove(id)`,',
    "or a handle's `remove(labels)`) removes them with prom-client's `remove()` and frees their values under",
    'the caps. A metric with a free label keeps at most `maxSeriesPerMetric` label sets (default 1000; further',
    'sets go to its `__overflow__` series, so sums stay right), and with `seriesTtlSeconds` a label set not',
    'recorded for that long is removed. `metric_series_dropped_total{metric, reason}` counts both.',
    '',
    "prom-client's default process metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,",
    '`process_open_fds`, `process_max_fds`, `nodejs_eventloop_lag_seconds`, `nodejs_heap_size_used_bytes`, ...)',
    'are registered with the `process` group.',
    '',
  ];
  for (const group of groups) {
    lines.push(`## ${group}`, '');
    lines.push('| name | type | unit | labels | buckets | guide name | help |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const d of definitions.filter((x) => x.group === group)) {
      const labels = d.labelNames
        .map((l) => {
          const values = d.labelValues?.[l];
          return values ? `\`${l}\` (${values.map((v) => (v === '' ? '""' : v)).join(', ')})` : `\`${l}\``;
        })
        .join(', ');
      const guide = d.guideName ? `\`${d.guideName}\`${d.guideNote ? `: ${d.guideNote}` : ''}` : '';
      lines.push(
        `| \`${prefix}${d.name}\` | ${d.type} | ${d.unit} | ${labels || '-'} | ${d.buckets ? d.buckets.join(', ') : '-'} | ${esc(guide)} | ${d.deprecated ? `**Deprecated**: use \`${esc(d.deprecated)}\`. ` : ''}${esc(d.help)} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
