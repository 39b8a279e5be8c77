// Prometheus started by the test, and the few HTTP API calls the assertions need.
import { join } from 'node:path';
import { findBinary, type ProcessHandle, readyOrStop, startProcess } from './processes.js';
import { http, waitFor } from './wait.js';

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface PromRule {
  name: string;
  type: 'alerting' | 'recording';
  query: string;
  health: string;
  lastError?: string;
  state?: string;
}

export interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  value: string;
}

export interface TestPrometheus {
  readonly url: string;
  readonly process: ProcessHandle;
  /** Instant query; throws with Prometheus' error text when the query is rejected. */
  query(expr: string): Promise<VectorSample[]>;
  targets(): Promise<PromTarget[]>;
  rules(): Promise<PromRule[]>;
  alerts(): Promise<PromAlert[]>;
  /** Alerts in state pending/firing as `name(state)` lines, for failure messages. */
  describeAlerts(): Promise<string>;
}

async function api<T>(base: string, path: string): Promise<T> {
  const { status, body } = await http(`${base}${path}`, { timeoutMs: 5_000 });
  let parsed: { status?: string; data?: T; error?: string };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    throw new Error(`prometheus ${path}: HTTP ${status}, not JSON: ${body.slice(0, 200)}`);
  }
  if (parsed.status !== 'success' || parsed.data === undefined) {
    throw new Error(`prometheus ${path}: HTTP ${status}: ${parsed.error ?? body.slice(0, 200)}`);
  }
  return parsed.data;
}

export async function startPrometheus(options: {
  configFile: string;
  dataDir: string;
  port: number;
  /** More command-line flags (e.g. `--enable-feature=exemplar-storage`). */
  extraArgs?: readonly string[];
}): Promise<TestPrometheus> {
  const binary = findBinary(['prometheus'], 'prometheus');
  const url = `http://127.0.0.1:${options.port}`;
  const child = startProcess('prometheus', binary, [
    `--config.file=${options.configFile}`,
    `--storage.tsdb.path=${join(options.dataDir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${options.port}`,
    // Re-send firing alerts every second instead of every minute, so a notification lost in a
    // restart window is repeated quickly.
    '--rules.alert.resend-delay=1s',
    '--log.level=warn',
    ...(options.extraArgs ?? []),
  ]);
  await readyOrStop(
    child,
    waitFor(
      `prometheus ready at ${url}/-/ready`,
      async () => !child.hasExited() && (await http(`${url}/-/ready`, { timeoutMs: 1_000 })).status === 200,
      { timeoutMs: 30_000, intervalMs: 200, diagnose: () => child.tail() },
    ),
  );
  const handle: TestPrometheus = {
    url,
    process: child,
    async query(expr) {
      const data = await api<{ resultType: string; result: VectorSample[] }>(
        url,
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.resultType === 'vector' ? data.result : [];
    },
    async targets() {
      const data = await api<{ activeTargets: PromTarget[] }>(url, '/api/v1/targets?state=active');
      return data.activeTargets;
    },
    async rules() {
      const data = await api<{ groups: Array<{ rules: PromRule[] }> }>(url, '/api/v1/rules');
      return data.groups.flatMap((group) => group.rules);
    },
    async alerts() {
      const data = await api<{ alerts: PromAlert[] }>(url, '/api/v1/alerts');
      return data.alerts;
    },
    async describeAlerts() {
      const alerts = await handle.alerts();
      const active = alerts.map((a) => `${a.labels.alertname}(${a.state}, severity=${a.labels.severity})`);
      return `prometheus alerts: ${active.join(', ') || '(none)'}`;
    },
  };
  return handle;
}
