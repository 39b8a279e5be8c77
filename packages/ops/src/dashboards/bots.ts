import { formatThreshold } from '../rules.js';
import type { DashboardSpec, PanelContext, PanelSpec } from './builder.js';

type Row = DashboardSpec['rows'][number];

export function botsDashboard(c: PanelContext): DashboardSpec {
  return {
    file: 'bot-performance.json',
    uid: c.uid('bot-performance'),
    title: 'DEIA / Bot Performance',
    rows: [botsRow(c), queueRow(c)],
  };
}

/** Bot instances, startup time, message latency, outcomes and errors, restarts and start errors. */
function botsRow(c: PanelContext): Row {
  const { o, t, m, rate, percentiles } = c;
  return {
    id: 1,
    title: 'Bots',
    panels: [
      {
        id: 2,
        title: 'Bot instances by status',
        kind: 'timeseries',
        unit: 'short',
        queries: [{ expr: `sum by (status) (${m('bot_instances')})`, legend: '{{status}}' }],
      },
      {
        id: 3,
        title: 'Bot startup time',
        kind: 'timeseries',
        unit: 's',
        queries: percentiles('bot_startup_duration_seconds'),
      },
      {
        id: 4,
        title: 'Message processing latency',
        kind: 'timeseries',
        unit: 's',
        queries: percentiles('bot_message_processing_duration_seconds'),
        thresholds: { warning: t.messageProcessingP95 },
      },
      {
        id: 5,
        title: 'Messages per minute by outcome',
        kind: 'timeseries',
        unit: 'short',
        queries: [{ expr: `${rate('bot_messages_processed_total', 'outcome')} * 60`, legend: '{{outcome}}' }],
      },
      {
        id: 6,
        title: 'Message errors by bot',
        kind: 'timeseries',
        unit: 'short',
        queries: [
          {
            expr: `topk(10, sum by (bot_id) (increase(${m('bot_messages_processed_total', 'outcome="error"')}[$__rate_interval])))`,
            legend: '{{bot_id}}',
          },
        ],
      },
      {
        id: 7,
        title: 'Restarts in 10m by bot',
        kind: 'timeseries',
        unit: 'short',
        queries: [
          { expr: `sum by (bot_id) (increase(${m('bot_restarts_total')}[10m]))`, legend: '{{bot_id}}' },
        ],
        thresholds: { warning: t.crashLoopWarning, critical: t.crashLoopCritical },
      },
      {
        id: 8,
        title: 'Start errors in 5m by bot',
        kind: 'timeseries',
        unit: 'short',
        queries: [
          {
            expr: `sum by (bot_id) (increase(${m('bot_start_errors_total')}[5m]))`,
            legend: '{{bot_id}}',
          },
        ],
      },
      // Opt-in: the SDK has no helper writing these (options.optional.botResources).
      ...(o.optional.botResources
        ? ([
            {
              id: 101,
              title: 'CPU per bot',
              kind: 'timeseries',
              unit: 'percentunit',
              queries: [{ expr: m('bot_cpu_usage_ratio'), legend: '{{bot_id}}' }],
            },
            {
              id: 102,
              title: 'Memory per bot',
              kind: 'timeseries',
              unit: 'bytes',
              queries: [{ expr: m('bot_memory_bytes'), legend: '{{bot_id}}' }],
            },
          ] satisfies PanelSpec[])
        : []),
    ],
  };
}

/** Queue depth and its trend, dispatch latency and its SLO share, tasks per second, queue wait. */
function queueRow(c: PanelContext): Row {
  const { p, t, m, rate, rec, percentiles, share, native } = c;
  return {
    id: 9,
    title: 'Queue',
    panels: [
      {
        id: 10,
        title: 'Queue depth',
        kind: 'timeseries',
        unit: 'short',
        queries: [{ expr: `max by (queue) (${m('task_queue_depth')})`, legend: '{{queue}}' }],
        thresholds: { warning: t.queueBacklogWarning, critical: t.queueBacklogCritical },
      },
      {
        id: 11,
        title: 'Queue depth trend (per second, 15m)',
        kind: 'timeseries',
        unit: 'short',
        queries: [{ expr: rec(`job_queue:${p}task_queue_depth:deriv15m`), legend: '{{queue}}' }],
      },
      {
        id: 12,
        title: 'Dispatch latency',
        kind: 'timeseries',
        unit: 's',
        queries: percentiles('bot_dispatch_latency_seconds'),
        thresholds: { warning: t.dispatchLatencyP50 },
      },
      {
        id: 15,
        title: `Dispatches within ${formatThreshold(t.dispatchLatencyP50, 'duration')}`,
        kind: 'timeseries',
        unit: 'percentunit',
        queries: [
          {
            expr: share('bot_dispatch_latency_seconds', t.dispatchLatencyP50),
            legend: 'within',
          },
        ],
        // BotDispatchSlow: below half, the median dispatch latency is above the bound.
        thresholds: { warning: 0.5, lowerIsWorse: true },
        description: `Share of dispatches that took at most ${formatThreshold(t.dispatchLatencyP50, 'duration')} (${native('bot_dispatch_latency_seconds') ? 'native histogram' : 'a bucket bound'}). BotDispatchSlow fires below 50%: the median is then above it.`,
        min: 0,
        max: 1,
      },
      {
        id: 13,
        title: 'Tasks per second',
        kind: 'timeseries',
        unit: 'short',
        queries: [
          { expr: rate('task_enqueued_total', 'queue'), legend: 'enqueued {{queue}}' },
          { expr: rate('task_completed_total', 'queue'), legend: 'completed {{queue}}' },
          { expr: rate('task_failed_total', 'queue'), legend: 'failed {{queue}}' },
        ],
      },
      {
        id: 14,
        title: 'Queue wait',
        kind: 'timeseries',
        unit: 's',
        queries: percentiles('task_queue_wait_seconds'),
      },
    ],
  };
}
