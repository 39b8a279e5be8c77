// Two replicas of a service built with @deia/express under ONE Prometheus job, with the rules and
// config @deia/ops generates (time compressed 20x through forScale/windowScale). One replica is
// faulted (every 2nd request answers 500), the other healthy, and the test sends each the same
// traffic: the job's error ratio is 25 % while the faulted replica alone is at 50 %.
// - HighErrorRate fires once per severity for the job (no per-instance copies), with the job's ratio.
// - After the healthy replica is killed, ServiceDown fires for exactly that instance.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exampleDir } from './e2e/controller.js';
import { writeTestOps } from './e2e/ops.js';
import { freePort, type ProcessHandle, readyOrStop, startProcess, stopAll } from './e2e/processes.js';
import { startPrometheus, type TestPrometheus } from './e2e/prometheus.js';
import { http, waitFor } from './e2e/wait.js';

const JOB = 'deia-fleet';
const replicaFile = join(exampleDir('express-controller'), 'test', 'fleet', 'replica.ts');
const dir = mkdtempSync(join(tmpdir(), 'deia-fleet-'));

interface Replica {
  target: string;
  process: ProcessHandle;
  sent: { ok: number; failed: number };
  alive: boolean;
}

async function startReplica(name: string, failEvery: number): Promise<Replica> {
  const port = await freePort();
  const child = startProcess(name, process.execPath, ['--import', 'tsx', replicaFile], {
    cwd: exampleDir('express-controller'),
    env: { ...process.env, PORT: String(port), FAIL_EVERY: String(failEvery), OTEL_TRACES_EXPORTER: 'none' },
  });
  const target = `127.0.0.1:${port}`;
  await readyOrStop(
    child,
    waitFor(
      `${name} ready`,
      async () => !child.hasExited() && (await http(`http://${target}/metrics`)).status === 200,
      { timeoutMs: 20_000, diagnose: () => child.tail() },
    ),
  );
  return { target, process: child, sent: { ok: 0, failed: 0 }, alive: true };
}

/** Sends one GET /api/bots to every live replica per tick (20 per second each) until stopped. */
function drive(replicas: Replica[]): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const tick = new Promise((r) => setTimeout(r, 50));
      await Promise.all(
        replicas
          .filter((r) => r.alive)
          .map(async (r) => {
            try {
              const { status } = await http(`http://${r.target}/api/bots`, { timeoutMs: 2_000 });
              if (status >= 500) r.sent.failed++;
              else r.sent.ok++;
            } catch {
              // the replica was killed mid-request: not counted
            }
          }),
      );
      await tick;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

let prom: TestPrometheus | undefined;
afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('two replicas under one job, with the generated rules in a real Prometheus', () => {
  it('pages once for the job at the job-wide error ratio, and ServiceDown names only the killed instance', async () => {
    const [faulted, healthy] = await Promise.all([startReplica('faulted', 2), startReplica('healthy', 0)]);
    const replicas = [faulted!, healthy!];
    const promPort = await freePort();
    const ops = writeTestOps({
      dir,
      job: JOB,
      controllerTarget: faulted!.target,
      alertmanagerTarget: `127.0.0.1:${await freePort()}`,
      webhookUrl: 'http://127.0.0.1:9/unused',
      timeScale: 20,
      generatorOptions: {
        job: JOB,
        forScale: 1 / 20,
        windowScale: 1 / 20,
        windowFloor: '10s',
        prometheus: {
          scrapeTargets: replicas.map((r) => r.target),
          scrapeInterval: '1s',
          evaluationInterval: '1s',
          alertmanagers: [`127.0.0.1:${await freePort()}`],
        },
      },
    });
    prom = await startPrometheus({ configFile: ops.prometheusConfig, dataDir: dir, port: promPort });
    const p = prom;
    const traffic = drive(replicas);
    try {
      // Both replicas are scraped under the one job.
      await waitFor(
        'both replicas up in the job',
        async () => (await p.query(`up{job="${JOB}"} == 1`)).length === 2,
        { timeoutMs: 15_000 },
      );

      type Alert = Awaited<ReturnType<TestPrometheus['alerts']>>[number];
      const firing = (alerts: Alert[], name: string) =>
        alerts.filter((a) => a.labels.alertname === name && a.state === 'firing');
      const errorAlerts = await waitFor(
        'HighErrorRate (warning and critical) to fire',
        async () => {
          const f = firing(await p.alerts(), 'HighErrorRate');
          return f.length >= 2 ? f : undefined;
        },
        { timeoutMs: 40_000, diagnose: () => p.describeAlerts() },
      );
      const sent = replicas.reduce((n, r) => n + r.sent.ok + r.sent.failed, 0);
      const failed = replicas.reduce((n, r) => n + r.sent.failed, 0);
      const sentRatio = failed / sent;
      // What the test sent: the faulted replica fails every 2nd request, the healthy one none.
      expect(sentRatio).toBeGreaterThan(0.22);
      expect(sentRatio).toBeLessThan(0.28);
      // Once per severity, for the job: no instance label, no copy per replica.
      expect(errorAlerts.map((a) => a.labels.severity).sort()).toEqual(['critical', 'warning']);
      for (const a of errorAlerts) {
        expect(a.labels.job).toBe(JOB);
        expect(a.labels.instance).toBeUndefined();
        // The job's ratio (25 %), not the faulted replica's (50 %) nor a mean of per-replica ratios.
        expect(
          Math.abs(Number(a.value) - sentRatio),
          `alert value ${a.value} vs sent ${sentRatio}`,
        ).toBeLessThan(0.04);
      }
      // The same window per instance, for contrast: the faulted one alone is at ~50 %, the other at 0.
      const perInstance = await p.query(
        `sum by (instance) (rate(http_requests_total{job="${JOB}",status=~"5.."}[15s])) / sum by (instance) (rate(http_requests_total{job="${JOB}"}[15s]))`,
      );
      const byInstance = Object.fromEntries(perInstance.map((s) => [s.metric.instance, Number(s.value[1])]));
      expect(byInstance[faulted!.target]).toBeGreaterThan(0.4);
      expect(byInstance[healthy!.target] ?? 0).toBe(0);

      // Kill the healthy replica (SIGKILL: a crash, not a graceful stop).
      healthy!.alive = false;
      await healthy!.process.kill();
      const down = await waitFor(
        'ServiceDown to fire for the killed replica',
        async () => {
          const f = firing(await p.alerts(), 'ServiceDown');
          return f.length > 0 ? f : undefined;
        },
        { timeoutMs: 30_000, diagnose: () => p.describeAlerts() },
      );
      expect(down.map((a) => a.labels.instance)).toEqual([healthy!.target]);
      expect(down[0]?.labels.job).toBe(JOB);
      // The live replica is still scraped and ServiceDown fires for no one else; the job is not missing.
      // Only firing alerts count: on a loaded machine one scrape of the busy faulted replica can
      // exceed the 1 s scrape timeout, which makes its `up` 0 once and a ServiceDown *pending* for
      // it, while firing needs `up == 0` for the whole `for` (3 s here, several scrapes in a row).
      await waitFor(
        'the faulted replica to be scraped successfully after the kill',
        async () => (await p.query(`up{job="${JOB}",instance="${faulted!.target}"} == 1`)).length === 1,
        {
          timeoutMs: 10_000,
          diagnose: async () =>
            (await p.targets()).map((t) => `${t.scrapeUrl}: ${t.health} ${t.lastError}`).join('\n'),
        },
      );
      const after = await p.alerts();
      expect(firing(after, 'ServiceDown').map((a) => a.labels.instance)).toEqual([healthy!.target]);
      expect(after.some((a) => a.labels.alertname === 'TargetMissing')).toBe(false);
      // Still one HighErrorRate per severity for the job.
      expect(firing(after, 'HighErrorRate').length).toBe(2);
    } finally {
      await traffic.stop();
    }
  }, 90_000);
});
