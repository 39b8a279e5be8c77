import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type AlertRule, alertRules, generateOps, type OpsOptions, type Severity } from '../src/index.js';
import { scaleWindows } from '../src/rules.js';
import { GENAI_CASES } from './genai-scenarios.js';
import { runPromtool } from './promtool.js';

// promtool comes from the Debian package `prometheus`; .ci/run installs it when missing.
// The unit tests are generated from the table below: for every alert at least one case where it
// fires (labels and rendered annotations checked) and one where it must not.

const JOB = 'deia-bot-controller';
const INSTANCE = 'app:8000';
const base = { job: JOB, instance: INSTANCE };

type Labels = Record<string, string>;
interface Series {
  name: string;
  labels?: Labels;
  values: string;
}
interface Expect {
  severity: Severity;
  labels: Labels;
  /** The value as the alert's humanize function prints it. */
  value: string;
}
interface Case {
  alert: string;
  what: string;
  at: string;
  series: Series[];
  fires: Expect[];
}

const s = (name: string, values: string, labels: Labels = {}): Series => ({
  name,
  labels: { ...base, ...labels },
  values,
});
const both = (labels: Labels, value: string): Expect[] => [
  { severity: 'warning', labels, value },
  { severity: 'critical', labels, value },
];
const hist = (name: string, buckets: Record<string, string>, labels: Labels = {}) =>
  Object.entries(buckets).map(([le, values]) => s(`${name}_bucket`, values, { ...labels, le }));
const jobOnly = { job: JOB };
/** Enough requests for the min-traffic clause of latency alerts (1/s), with the SDK's labels. */
const traffic = s('http_requests_total', '0+60x60', { method: 'GET', route: '/api/bots', status: '200' });

/**
 * The model alerts' hand-computed cases (genai-scenarios.ts) that check a level, each at its last
 * evaluation time; their gap, low-traffic and restart cases run in ops-alert-edges.test.ts.
 */
const genAi: Case[] = GENAI_CASES.filter((c) =>
  ['fire', 'edge-fire', 'edge-quiet', 'quiet'].includes(c.kind),
).map((c) => ({
  alert: c.alert,
  what: `${c.what} [${c.kind}]`,
  at: `${c.at[c.at.length - 1]}m`,
  series: c.series,
  fires: c.fires,
}));

const CASES: Case[] = [
  ...genAi,
  // service
  {
    alert: 'TargetMissing',
    what: 'no up series for the job (gone from service discovery)',
    at: '5m',
    series: [s('up', '1x10', { job: 'some-other-job' })],
    fires: [{ severity: 'critical', labels: jobOnly, value: '' }],
  },
  { alert: 'TargetMissing', what: 'target scraped', at: '5m', series: [s('up', '0x10')], fires: [] },
  {
    alert: 'ServiceDown',
    what: 'target down 2m',
    at: '2m',
    series: [s('up', '0x10')],
    fires: [{ severity: 'critical', labels: base, value: '' }],
  },
  { alert: 'ServiceDown', what: 'target up', at: '5m', series: [s('up', '1x10')], fires: [] },
  { alert: 'ServiceDown', what: 'down but before for:', at: '30s', series: [s('up', '0x10')], fires: [] },
  {
    alert: 'HighErrorRate',
    what: '10% 5xx',
    at: '10m',
    series: [
      s('http_requests_total', '0+6x20', { status: '500' }),
      s('http_requests_total', '0+54x20', { status: '200' }),
    ],
    fires: both(jobOnly, '10%'),
  },
  {
    alert: 'HighErrorRate',
    what: '2% 5xx: warning only',
    at: '10m',
    series: [
      s('http_requests_total', '0+2x20', { status: '503' }),
      s('http_requests_total', '0+98x20', { status: '200' }),
    ],
    fires: [{ severity: 'warning', labels: jobOnly, value: '2%' }],
  },
  {
    alert: 'HighErrorRate',
    what: 'low traffic: 1 request a minute, one of them a 5xx (17% over 5m)',
    at: '10m',
    series: [
      s('http_requests_total', '0x5 1x20', { method: 'POST', route: '/api/bot/:id/message', status: '500' }),
      s('http_requests_total', '0+1x20', { method: 'GET', route: '/api/bots', status: '200' }),
    ],
    fires: [],
  },
  {
    alert: 'AvailabilityBudgetBurn',
    what: 'low traffic: 1 request a minute, 10% of them 5xx',
    at: '30m',
    series: [
      s('http_requests_total', '0+0.1x60', { method: 'GET', route: '/api/bots', status: '500' }),
      s('http_requests_total', '0+0.9x60', { method: 'GET', route: '/api/bots', status: '200' }),
    ],
    fires: [],
  },
  {
    alert: 'HighErrorRate',
    what: '0.5% 5xx',
    at: '10m',
    series: [
      s('http_requests_total', '0+1x20', { status: '500' }),
      s('http_requests_total', '0+199x20', { status: '200' }),
    ],
    fires: [],
  },
  {
    alert: 'HighLatency',
    what: 'p95 1.95s',
    at: '10m',
    series: [
      ...hist('http_request_duration_seconds', {
        '0.5': '0x20',
        '1': '0x20',
        '2': '0+10x20',
        '+Inf': '0+10x20',
      }),
      traffic,
    ],
    fires: both(jobOnly, '1.95s'),
  },
  {
    alert: 'HighLatency',
    what: 'p95 295ms',
    at: '10m',
    series: hist('http_request_duration_seconds', { '0.2': '0x20', '0.3': '0+10x20', '+Inf': '0+10x20' }),
    fires: [],
  },
  {
    alert: 'SlowDatabaseQueries',
    what: 'p95 2.425s',
    at: '10m',
    series: [
      ...hist(
        'db_query_duration_seconds',
        { '1': '0x20', '2.5': '0+10x20', '+Inf': '0+10x20' },
        { operation: 'select' },
      ),
      s('db_query_duration_seconds_count', '0+10x20', { operation: 'select' }),
    ],
    fires: [{ severity: 'warning', labels: { ...jobOnly, operation: 'select' }, value: '2.425s' }],
  },
  {
    alert: 'SlowDatabaseQueries',
    what: 'p95 975ms',
    at: '10m',
    series: hist(
      'db_query_duration_seconds',
      { '0.5': '0x20', '1': '0+10x20', '+Inf': '0+10x20' },
      { operation: 'select' },
    ),
    fires: [],
  },
  {
    alert: 'DatabasePoolSaturation',
    what: '97/100 in use',
    at: '10m',
    series: [
      s('db_connection_pool_active', '97x20', { pool: 'default' }),
      s('db_connection_pool_max', '100x20', { pool: 'default' }),
    ],
    fires: both({ ...base, pool: 'default' }, '97%'),
  },
  {
    alert: 'DatabasePoolSaturation',
    what: '80/100 in use (exactly the threshold)',
    at: '10m',
    series: [
      s('db_connection_pool_active', '80x20', { pool: 'default' }),
      s('db_connection_pool_max', '100x20', { pool: 'default' }),
    ],
    fires: [],
  },
  {
    alert: 'DatabaseDown',
    what: 'database check failing',
    at: '2m',
    series: [
      s('health_check_up', '0x5', { check: 'database' }),
      s('health_check_up', '1x5', { check: 'cache' }),
    ],
    fires: [{ severity: 'critical', labels: { ...base, check: 'database' }, value: '' }],
  },
  {
    alert: 'DatabaseDown',
    what: 'database check passing',
    at: '2m',
    series: [s('health_check_up', '1x5', { check: 'database' })],
    fires: [],
  },
  {
    alert: 'OllamaDown',
    what: 'ollama check failing',
    at: '2m',
    series: [
      s('health_check_up', '0x5', { check: 'ollama' }),
      s('health_check_up', '1x5', { check: 'database' }),
    ],
    fires: [{ severity: 'critical', labels: { ...base, check: 'ollama' }, value: '' }],
  },
  {
    alert: 'OllamaDown',
    what: 'ollama check passing',
    at: '2m',
    series: [s('health_check_up', '1x5', { check: 'ollama' })],
    fires: [],
  },
  {
    alert: 'CacheDown',
    what: 'redis check failing',
    at: '3m',
    series: [s('health_check_up', '0x5', { check: 'redis' })],
    fires: [{ severity: 'warning', labels: { ...base, check: 'redis' }, value: '' }],
  },
  {
    alert: 'CacheDown',
    what: 'redis check passing',
    at: '3m',
    series: [s('health_check_up', '1x5', { check: 'redis' })],
    fires: [],
  },
  {
    alert: 'AuthFailureSpike',
    what: '15 failures in 5m',
    at: '10m',
    series: [s('auth_failures_total', '0+3x20', { reason: 'bad_password' })],
    fires: [{ severity: 'warning', labels: jobOnly, value: '15' }],
  },
  {
    alert: 'AuthFailureSpike',
    what: '10 failures in 5m',
    at: '10m',
    series: [s('auth_failures_total', '0+2x20', { reason: 'bad_password' })],
    fires: [],
  },
  {
    alert: 'WebSocketDisconnectSpike',
    what: '30 per minute',
    at: '10m',
    series: [s('websocket_disconnect_total', '0+30x20', { reason: 'error' })],
    fires: [{ severity: 'warning', labels: jobOnly, value: '30' }],
  },
  {
    alert: 'WebSocketDisconnectSpike',
    what: 'exactly 20 per minute (the threshold; rate*60 is 20.0000000000000036)',
    at: '10m',
    series: [s('websocket_disconnect_total', '0+20x20', { reason: 'error' })],
    fires: [],
  },
  {
    alert: 'WebSocketDisconnectSpike',
    what: '15 per minute',
    at: '10m',
    series: [s('websocket_disconnect_total', '0+15x20', { reason: 'error' })],
    fires: [],
  },
  // process
  {
    alert: 'HighMemoryUsage',
    what: '2 GB RSS',
    at: '10m',
    series: [s('process_resident_memory_bytes', '2000000000x20')],
    fires: both(base, '1.863Gi'),
  },
  {
    alert: 'HighMemoryUsage',
    what: '1.6 GB RSS (threshold)',
    at: '10m',
    series: [s('process_resident_memory_bytes', '1600000000x20')],
    fires: [],
  },
  {
    alert: 'MemoryLeakSuspected',
    what: '+100 MB a minute',
    at: '40m',
    series: [s('process_resident_memory_bytes', '100000000+100000000x60')],
    fires: [{ severity: 'warning', labels: base, value: '1.397Gi' }],
  },
  {
    alert: 'MemoryLeakSuspected',
    what: '+30 MB a minute',
    at: '40m',
    series: [s('process_resident_memory_bytes', '100000000+30000000x60')],
    fires: [],
  },
  {
    alert: 'HighCPUUsage',
    what: '90% of a core',
    at: '15m',
    series: [s('process_cpu_seconds_total', '0+54x20')],
    fires: [{ severity: 'warning', labels: base, value: '90%' }],
  },
  {
    alert: 'HighCPUUsage',
    what: '75% of a core',
    at: '15m',
    series: [s('process_cpu_seconds_total', '0+45x20')],
    fires: [],
  },
  {
    alert: 'FileDescriptorsExhaustion',
    what: '900 of 1000',
    at: '10m',
    series: [s('process_open_fds', '900x20'), s('process_max_fds', '1000x20')],
    fires: [{ severity: 'warning', labels: base, value: '90%' }],
  },
  {
    alert: 'FileDescriptorsExhaustion',
    what: '850 of 1000',
    at: '10m',
    series: [s('process_open_fds', '850x20'), s('process_max_fds', '1000x20')],
    fires: [],
  },
  {
    alert: 'EventLoopLag',
    what: 'p99 350ms',
    at: '10m',
    series: [s('nodejs_eventloop_lag_p99_seconds', '0.35x20')],
    fires: [{ severity: 'warning', labels: base, value: '350ms' }],
  },
  {
    alert: 'EventLoopLag',
    what: 'p99 200ms',
    at: '10m',
    series: [s('nodejs_eventloop_lag_p99_seconds', '0.2x20')],
    fires: [],
  },
  {
    alert: 'HttpRoutesOverflowed',
    what: '3 templates past maxRoutes for 15m',
    at: '15m',
    series: [s('http_routes_overflowed', '3x20')],
    fires: [{ severity: 'warning', labels: base, value: '3' }],
  },
  {
    alert: 'HttpRoutesOverflowed',
    what: 'no template past maxRoutes',
    at: '15m',
    series: [s('http_routes_overflowed', '0x20')],
    fires: [],
  },
  {
    alert: 'HttpRoutesOverflowed',
    what: 'overflowing for 5m only (for: 10m)',
    at: '15m',
    series: [s('http_routes_overflowed', '0x10 1x10')],
    fires: [],
  },
  // host (node_exporter)
  {
    alert: 'HostDiskSpaceLow',
    what: '5% free',
    at: '10m',
    series: (() => {
      const l = { job: 'node', instance: 'host:9100', mountpoint: '/', fstype: 'ext4', device: '/dev/sda1' };
      return [
        { name: 'node_filesystem_avail_bytes', labels: l, values: '5x20' },
        { name: 'node_filesystem_size_bytes', labels: l, values: '100x20' },
      ];
    })(),
    fires: both(
      { job: 'node', instance: 'host:9100', mountpoint: '/', fstype: 'ext4', device: '/dev/sda1' },
      '5%',
    ),
  },
  {
    alert: 'HostDiskSpaceLow',
    what: '15% free, and a tmpfs nearly full',
    at: '10m',
    series: (() => {
      const l = { job: 'node', instance: 'host:9100', mountpoint: '/', fstype: 'ext4', device: '/dev/sda1' };
      const t = { job: 'node', instance: 'host:9100', mountpoint: '/run', fstype: 'tmpfs', device: 'tmpfs' };
      return [
        { name: 'node_filesystem_avail_bytes', labels: l, values: '15x20' },
        { name: 'node_filesystem_size_bytes', labels: l, values: '100x20' },
        { name: 'node_filesystem_avail_bytes', labels: t, values: '1x20' },
        { name: 'node_filesystem_size_bytes', labels: t, values: '100x20' },
      ];
    })(),
    fires: [],
  },
  // bots
  {
    alert: 'BotStartErrors',
    what: 'one failed start',
    at: '7m',
    series: [s('bot_start_errors_total', '0x5 1x10', { bot_id: 'bot-1' })],
    fires: [{ severity: 'warning', labels: { ...jobOnly, bot_id: 'bot-1' }, value: '1' }],
  },
  {
    alert: 'BotStartErrors',
    what: 'after a scrape gap longer than the window, old failures are not new ones',
    at: '25m',
    series: [s('bot_start_errors_total', '0 3x5 _x10 3x15', { bot_id: 'bot-2' })],
    fires: [],
  },
  {
    alert: 'BotStartErrors',
    what: 'no failures',
    at: '7m',
    series: [s('bot_start_errors_total', '0x20', { bot_id: 'bot-1' })],
    fires: [],
  },
  {
    alert: 'BotCrashLoop',
    what: '5 restarts in 10m',
    at: '10m',
    series: [s('bot_restarts_total', '0x5 1 2 3 4 5 5 5', { bot_id: 'bot-1' })],
    fires: both({ ...jobOnly, bot_id: 'bot-1' }, '5'),
  },
  {
    alert: 'BotCrashLoop',
    what: '2 restarts of a bot (its series created at 0 by trackStartup)',
    at: '8m',
    series: [s('bot_restarts_total', '0x6 1 2', { bot_id: 'bot-3' })],
    fires: [{ severity: 'warning', labels: { ...jobOnly, bot_id: 'bot-3' }, value: '2' }],
  },
  {
    alert: 'BotCrashLoop',
    what: 'restarted 7 times long ago, then a scrape gap longer than 10m',
    at: '30m',
    series: [s('bot_restarts_total', '0 7x5 _x15 7x10', { bot_id: 'bot-1' })],
    fires: [],
  },
  {
    alert: 'BotCrashLoop',
    what: '1 restart in 10m',
    at: '10m',
    series: [s('bot_restarts_total', '0x5 1x10', { bot_id: 'bot-1' })],
    fires: [],
  },
  {
    alert: 'QueueBacklog',
    what: '50 queued for 10m',
    at: '10m',
    series: [s('task_queue_depth', '50x20', { queue: 'default' })],
    fires: both({ ...jobOnly, queue: 'default' }, '50'),
  },
  {
    alert: 'QueueBacklog',
    what: '30 queued: warning only',
    at: '10m',
    series: [s('task_queue_depth', '30x20', { queue: 'default' })],
    fires: [{ severity: 'warning', labels: { ...jobOnly, queue: 'default' }, value: '30' }],
  },
  {
    alert: 'QueueBacklog',
    what: '50 queued, before for:',
    at: '1m',
    series: [s('task_queue_depth', '50x20', { queue: 'default' })],
    fires: [],
  },
  {
    alert: 'QueueBacklog',
    what: '20 queued',
    at: '10m',
    series: [s('task_queue_depth', '20x20', { queue: 'default' })],
    fires: [],
  },
  {
    alert: 'BotDispatchSlow',
    what: "median above 2s, the guide's threshold (70% of dispatches slower)",
    at: '10m',
    series: [
      ...hist('bot_dispatch_latency_seconds', {
        '1': '0x20',
        '2': '0+3x20',
        '2.5': '0+3x20',
        '+Inf': '0+10x20',
      }),
      s('bot_dispatch_latency_seconds_count', '0+10x20'),
    ],
    fires: [{ severity: 'warning', labels: jobOnly, value: '30%' }],
  },
  {
    alert: 'BotDispatchSlow',
    what: 'median within 2s (half at most 2s: the edge)',
    at: '10m',
    series: [
      ...hist('bot_dispatch_latency_seconds', {
        '1': '0x20',
        '2': '0+5x20',
        '2.5': '0+8x20',
        '+Inf': '0+10x20',
      }),
      s('bot_dispatch_latency_seconds_count', '0+10x20'),
    ],
    fires: [],
  },
  {
    alert: 'MessageProcessingSlow',
    what: 'p95 975ms',
    at: '10m',
    series: [
      ...hist('bot_message_processing_duration_seconds', {
        '0.5': '0x20',
        '1': '0+10x20',
        '+Inf': '0+10x20',
      }),
      s('bot_message_processing_duration_seconds_count', '0+10x20'),
    ],
    fires: [{ severity: 'warning', labels: jobOnly, value: '975ms' }],
  },
  {
    alert: 'MessageProcessingSlow',
    what: 'p95 487.5ms',
    at: '10m',
    series: hist('bot_message_processing_duration_seconds', {
      '0.25': '0x20',
      '0.5': '0+10x20',
      '+Inf': '0+10x20',
    }),
    fires: [],
  },
  // dependencies
  {
    alert: 'DependencyLatencyHigh',
    what: 'p95 975ms',
    at: '10m',
    series: [
      ...hist(
        'dependency_request_duration_seconds',
        { '0.5': '0x20', '1': '0+10x20', '+Inf': '0+10x20' },
        { dependency: 'qdrant', outcome: 'success' },
      ),
      s('dependency_request_duration_seconds_count', '0+10x20', { dependency: 'qdrant', outcome: 'success' }),
    ],
    fires: both({ ...jobOnly, dependency: 'qdrant' }, '975ms'),
  },
  {
    alert: 'DependencyLatencyHigh',
    what: 'p95 295ms',
    at: '10m',
    series: hist(
      'dependency_request_duration_seconds',
      { '0.2': '0x20', '0.3': '0+10x20', '+Inf': '0+10x20' },
      { dependency: 'qdrant', outcome: 'success' },
    ),
    fires: [],
  },
  {
    alert: 'DependencyErrorRate',
    what: '50% of qdrant calls fail',
    at: '10m',
    series: [
      s('dependency_request_duration_seconds_count', '0+5x20', { dependency: 'qdrant', outcome: 'error' }),
      s('dependency_request_duration_seconds_count', '0+5x20', { dependency: 'qdrant', outcome: 'success' }),
    ],
    fires: both({ ...jobOnly, dependency: 'qdrant' }, '50%'),
  },
  {
    alert: 'DependencyErrorRate',
    what: '10% fail: warning only',
    at: '10m',
    series: [
      s('dependency_request_duration_seconds_count', '0+1x20', { dependency: 'qdrant', outcome: 'error' }),
      s('dependency_request_duration_seconds_count', '0+9x20', { dependency: 'qdrant', outcome: 'success' }),
    ],
    fires: [{ severity: 'warning', labels: { ...jobOnly, dependency: 'qdrant' }, value: '10%' }],
  },
  {
    alert: 'DependencyErrorRate',
    what: '4% fail',
    at: '10m',
    series: [
      s('dependency_request_duration_seconds_count', '0+1x20', { dependency: 'qdrant', outcome: 'error' }),
      s('dependency_request_duration_seconds_count', '0+24x20', { dependency: 'qdrant', outcome: 'success' }),
    ],
    fires: [],
  },
  {
    alert: 'DependencyErrorRate',
    what: '50% fail but before for:',
    at: '1m',
    series: [
      s('dependency_request_duration_seconds_count', '0+5x20', { dependency: 'qdrant', outcome: 'error' }),
      s('dependency_request_duration_seconds_count', '0+5x20', { dependency: 'qdrant', outcome: 'success' }),
    ],
    fires: [],
  },
  {
    alert: 'DependencyErrorRate',
    what: 'every ollama call fails: ModelErrorRate alerts on these (gen_ai_*), not this rule',
    at: '10m',
    series: [
      s('dependency_request_duration_seconds_count', '0+10x20', { dependency: 'ollama', outcome: 'error' }),
    ],
    fires: [],
  },
  {
    alert: 'CacheHitRatioLow',
    what: '30% hits for 40m',
    at: '40m',
    series: [
      s('cache_hits_total', '0+30x60', { cache: 'default' }),
      s('cache_misses_total', '0+70x60', { cache: 'default' }),
    ],
    fires: [{ severity: 'info', labels: { ...jobOnly, cache: 'default' }, value: '30%' }],
  },
  {
    alert: 'CacheHitRatioLow',
    what: '30% hits, before for: 30m',
    at: '20m',
    series: [
      s('cache_hits_total', '0+30x60', { cache: 'default' }),
      s('cache_misses_total', '0+70x60', { cache: 'default' }),
    ],
    fires: [],
  },
  {
    alert: 'CacheHitRatioLow',
    what: '75% hits',
    at: '40m',
    series: [
      s('cache_hits_total', '0+75x60', { cache: 'default' }),
      s('cache_misses_total', '0+25x60', { cache: 'default' }),
    ],
    fires: [],
  },
  // SLO burn rates (99.5% availability: budget 0.5%; 95% under 200 ms: budget 5%)
  {
    alert: 'AvailabilityBudgetBurn',
    what: '10% errors: page and ticket',
    at: '30m',
    series: [
      s('http_requests_total', '0+1x60', { status: '500' }),
      s('http_requests_total', '0+9x60', { status: '200' }),
    ],
    fires: [
      { severity: 'critical', labels: jobOnly, value: '10%' },
      { severity: 'warning', labels: jobOnly, value: '10%' },
    ],
  },
  {
    alert: 'AvailabilityBudgetBurn',
    what: '2% errors: ticket only',
    at: '30m',
    series: [
      s('http_requests_total', '0+2x60', { status: '500' }),
      s('http_requests_total', '0+98x60', { status: '200' }),
    ],
    fires: [{ severity: 'warning', labels: jobOnly, value: '2%' }],
  },
  {
    alert: 'AvailabilityBudgetBurn',
    what: '0.4% errors: within budget',
    at: '30m',
    series: [
      s('http_requests_total', '0+2x60', { status: '500' }),
      s('http_requests_total', '0+498x60', { status: '200' }),
    ],
    fires: [],
  },
  {
    alert: 'LatencyBudgetBurn',
    what: '80% slower than 200ms',
    at: '30m',
    series: [
      s('http_request_duration_seconds_bucket', '0+2x60', { le: '0.2' }),
      s('http_request_duration_seconds_count', '0+10x60'),
      traffic,
    ],
    fires: [
      { severity: 'critical', labels: jobOnly, value: '80%' },
      { severity: 'warning', labels: jobOnly, value: '80%' },
    ],
  },
  {
    alert: 'LatencyBudgetBurn',
    what: '4% slower than 200ms',
    at: '30m',
    series: [
      s('http_request_duration_seconds_bucket', '0+96x60', { le: '0.2' }),
      s('http_request_duration_seconds_count', '0+100x60'),
      traffic,
    ],
    fires: [],
  },
];

/** Renders an annotation template the way Prometheus would for these labels and humanized value. */
function render(template: string, labels: Labels, value: string): string {
  return template
    .replace(/\{\{ \$labels\.([a-zA-Z_]+) \}\}/g, (_, l: string) => labels[l] ?? '')
    .replace(/\{\{ \$value \| humanize(?:Percentage|Duration|1024)? \}\}/g, value);
}

const seriesText = (x: Series) =>
  `${x.name}{${Object.entries(x.labels ?? {})
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

function unitTests(rules: AlertRule[], cases: Case[]) {
  return {
    rule_files: ['rules.yml'],
    evaluation_interval: '1m',
    tests: cases.map((c) => ({
      name: `${c.alert}: ${c.what}`,
      interval: '1m',
      input_series: c.series.map((x) => ({ series: seriesText(x), values: x.values })),
      alert_rule_test: [
        {
          eval_time: c.at,
          alertname: c.alert,
          exp_alerts: c.fires.map((f) => {
            const rule = rules.find((r) => r.alert === c.alert && r.labels.severity === f.severity);
            if (!rule) throw new Error(`no ${f.severity} rule for ${c.alert}`);
            const labels = { ...f.labels, severity: f.severity };
            return {
              exp_labels: labels,
              exp_annotations: {
                summary: render(rule.annotations.summary, labels, f.value),
                description: render(rule.annotations.description, labels, f.value),
                runbook_url: rule.annotations.runbook_url,
              },
            };
          }),
        },
      ],
    })),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'deia-ops-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const promtool = (args: string[], cwd = dir) => runPromtool(cwd, args);

describe('generated Prometheus rules', () => {
  const options: OpsOptions = {
    nodeExporter: { enabled: true },
    // Their scrape jobs go through promtool check config below.
    postgresExporter: { enabled: true },
    redisExporter: { enabled: true },
    optional: { auth: true, websocket: true, botResources: true, uploads: true },
  };
  const { files, groups } = generateOps(options);
  const rules = alertRules(groups);
  writeFileSync(join(dir, 'rules.yml'), files['prometheus/rules.yml'] as string);
  writeFileSync(join(dir, 'prometheus.yml'), files['prometheus/prometheus.yml'] as string);

  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', 'rules.yml']);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('give every alert a severity, summary, description and runbook_url', () => {
    for (const r of rules) {
      expect(['critical', 'warning', 'info']).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      expect(r.annotations.description.length).toBeGreaterThan(10);
      expect(r.annotations.runbook_url).toMatch(new RegExp(`/${r.alert}\\.md$`));
    }
  });

  it('use the humanize function that matches the unit of the value', () => {
    const unitOf = (r: AlertRule) => r.annotations.description.match(/\$value \| (\w+)/)?.[1];
    const expected: Record<string, string | undefined> = {
      HighErrorRate: 'humanizePercentage',
      HighLatency: 'humanizeDuration',
      DatabasePoolSaturation: 'humanizePercentage',
      HighMemoryUsage: 'humanize1024',
      MemoryLeakSuspected: 'humanize1024',
      HighCPUUsage: 'humanizePercentage',
      FileDescriptorsExhaustion: 'humanizePercentage',
      HostDiskSpaceLow: 'humanizePercentage',
      CacheHitRatioLow: 'humanizePercentage',
      EventLoopLag: 'humanizeDuration',
      HttpRoutesOverflowed: 'humanize',
      BotDispatchSlow: 'humanizePercentage',
      MessageProcessingSlow: 'humanizeDuration',
      DependencyLatencyHigh: 'humanizeDuration',
      ModelTimeToFirstChunkHigh: 'humanizeDuration',
      ModelTimeToFirstChunkBudgetBurn: 'humanizePercentage',
      ModelGenerationSlow: 'humanize',
      ModelColdStartStorm: 'humanize',
      DependencyErrorRate: 'humanizePercentage',
      ModelErrorRate: 'humanizePercentage',
      SlowDatabaseQueries: 'humanizeDuration',
      AvailabilityBudgetBurn: 'humanizePercentage',
      LatencyBudgetBurn: 'humanizePercentage',
      QueueBacklog: 'humanize',
      BotCrashLoop: 'humanize',
      BotStartErrors: 'humanize',
      AuthFailureSpike: 'humanize',
      WebSocketDisconnectSpike: 'humanize',
      ServiceDown: undefined,
      TargetMissing: undefined,
      DatabaseDown: undefined,
      CacheDown: undefined,
      OllamaDown: undefined,
    };
    for (const r of rules) expect([r.alert, unitOf(r)]).toEqual([r.alert, expected[r.alert]]);
    expect(new Set(rules.map((r) => r.alert))).toEqual(new Set(Object.keys(expected)));
  });

  it('have, for every alert and severity, a firing case and a not-firing case', () => {
    for (const r of rules) {
      const own = CASES.filter((c) => c.alert === r.alert);
      expect(
        own.some((c) => c.fires.some((f) => f.severity === r.labels.severity)),
        `${r.alert}/${r.labels.severity} fires`,
      ).toBe(true);
      expect(
        own.some((c) => c.fires.length === 0),
        `${r.alert} stays quiet`,
      ).toBe(true);
    }
  });

  it('pass promtool test rules (generated from the case table)', () => {
    writeFileSync(join(dir, 'tests.yml'), stringify(unitTests(rules, CASES), { lineWidth: 0 }));
    const r = promtool(['test', 'rules', 'tests.yml']);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  }, 120_000);

  it('pass promtool check config for prometheus.yml (with rules.yml next to it)', () => {
    const r = promtool(['check', 'config', 'prometheus.yml']);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('shorten every for: with forScale', () => {
    const short = alertRules(generateOps({ forScale: 0.1 }).groups);
    expect(short.find((r) => r.alert === 'CacheHitRatioLow')?.for).toBe('3m');
    expect(short.find((r) => r.alert === 'ServiceDown')?.for).toBe('6s');
    const none = alertRules(generateOps({ forScale: 0 }).groups);
    expect(none.every((r) => r.for === undefined)).toBe(true);
  });

  it('scale range selectors and offsets with windowScale, never below windowFloor', () => {
    const exprOf = (opts: OpsOptions, record: string) =>
      generateOps(opts)
        .groups.flatMap((g) => g.rules)
        .find((r) => 'record' in r && r.record === record)?.expr;
    const crash = (opts: OpsOptions) =>
      alertRules(generateOps(opts).groups).find((r) => r.alert === 'BotCrashLoop')?.expr;
    const fast = { windowScale: 0.05, windowFloor: '10s' };
    expect(exprOf(fast, 'job:http_requests:rate5m')).toContain('[15s]');
    expect(exprOf(fast, 'job:http_request_errors:ratio_rate3d')).toContain('[3h36m]');
    // 15m * 0.05 = 45s, 10m * 0.05 = 30s; ranges and offsets together.
    expect(exprOf(fast, 'job_queue:task_queue_depth:deriv15m')).toContain('[45s]');
    expect(crash(fast)).toContain('[30s])');
    // The first-seen memory (1h) and its offset scale with the windows.
    expect(crash(fast)).toContain('[3m] offset 30s');
    expect(scaleWindows('x offset 10m', 0.05, 10)).toBe('x offset 30s');
    expect(exprOf({ windowScale: 0.01, windowFloor: '10s' }, 'job:http_requests:rate5m')).toContain('[10s]');
    expect(generateOps({}).files['prometheus/rules.yml']).toBe(
      generateOps({ windowScale: 1, windowFloor: '5s' }).files['prometheus/rules.yml'],
    );
    const scaled = generateOps(fast).files['prometheus/rules.yml'] as string;
    writeFileSync(join(dir, 'scaled.yml'), scaled);
    const r = promtool(['check', 'rules', 'scaled.yml']);
    expect(r.out).toContain('SUCCESS');
  });

  it('apply the metric prefix and selector to every SDK series', () => {
    const out = generateOps({ prefix: 'deia_', selector: 'job="x",env="prod"', job: 'x' }).files[
      'prometheus/rules.yml'
    ] as string;
    expect(out).toContain('deia_http_requests_total{job="x",env="prod"');
    expect(out).toContain('deia_process_resident_memory_bytes{job="x",env="prod"}');
    expect(out).not.toMatch(/[^_]http_requests_total\{/);
  });
});
