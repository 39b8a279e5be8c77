// Alertmanager started by the test: no clustering (empty --cluster.listen-address), its own
// storage directory, and a readiness wait.
import { findBinary, type ProcessHandle, readyOrStop, startProcess } from './processes.js';
import { http, waitFor } from './wait.js';

export interface TestAlertmanager {
  readonly url: string;
  readonly process: ProcessHandle;
  /** Alerts Alertmanager currently holds, as `name(state)`, for failure messages. */
  describeAlerts(): Promise<string>;
  /** Alerts Alertmanager currently holds: name, severity, and whether an inhibit rule mutes it. */
  alerts(): Promise<Array<{ alertname: string; severity: string; inhibited: boolean }>>;
}

export async function startAlertmanager(options: {
  configFile: string;
  dataDir: string;
  port: number;
}): Promise<TestAlertmanager> {
  // Debian installs the binary as prometheus-alertmanager; upstream tarballs as alertmanager.
  const binary = findBinary(['alertmanager', 'prometheus-alertmanager'], 'prometheus-alertmanager');
  const url = `http://127.0.0.1:${options.port}`;
  const child = startProcess('alertmanager', binary, [
    `--config.file=${options.configFile}`,
    `--storage.path=${options.dataDir}`,
    `--web.listen-address=127.0.0.1:${options.port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
  await readyOrStop(
    child,
    waitFor(
      `alertmanager ready at ${url}/-/ready`,
      async () => !child.hasExited() && (await http(`${url}/-/ready`, { timeoutMs: 1_000 })).status === 200,
      { timeoutMs: 30_000, intervalMs: 200, diagnose: () => child.tail() },
    ),
  );
  const list = async () => {
    const { body } = await http(`${url}/api/v2/alerts`, { timeoutMs: 3_000 });
    return JSON.parse(body) as Array<{
      labels: Record<string, string>;
      status: { state: string; inhibitedBy?: string[] };
    }>;
  };
  return {
    url,
    process: child,
    async alerts() {
      return (await list()).map((a) => ({
        alertname: a.labels.alertname ?? '',
        severity: a.labels.severity ?? '',
        inhibited: (a.status.inhibitedBy?.length ?? 0) > 0,
      }));
    },
    async describeAlerts() {
      const { body } = await http(`${url}/api/v2/alerts`, { timeoutMs: 3_000 });
      const alerts = JSON.parse(body) as Array<{
        labels: Record<string, string>;
        status: { state: string; inhibitedBy?: string[] };
      }>;
      const lines = alerts.map(
        (a) =>
          `${a.labels.alertname}/${a.labels.severity ?? '-'}(${a.status.state}${a.status.inhibitedBy?.length ? ' inhibited' : ''})`,
      );
      return `alertmanager alerts: ${lines.join(', ') || '(none)'}`;
    },
  };
}
