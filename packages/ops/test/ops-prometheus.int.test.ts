import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetrics } from '@deia/metrics';
import * as promClient from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { alertRules, generateOps } from '../src/index.js';
import { recordingRuleNames } from '../src/rules.js';
import { freePort, stopAll } from './processes.js';

// A real Prometheus (Debian package `prometheus`) scrapes a real @deia/metrics exposition and
// evaluates the generated rules: every rule must evaluate without error, and alerts fed by the
// SDK's own series must fire.

const dir = mkdtempSync(join(tmpdir(), 'deia-ops-prom-'));
let prom: ChildProcess | undefined;
let app: Server | undefined;
afterAll(async () => {
  await stopAll(prom, app);
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await get();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

describe('generated rules in a real Prometheus, scraping a real @deia/metrics registry', () => {
  it('evaluate without errors and fire on the SDK series', async () => {
    const m = createMetrics({ registry: new promClient.Registry(), prefix: 'deia_', warn: () => {} });
    for (let i = 0; i < 20; i++) {
      m.http.requests.inc({ method: 'GET', route: '/api/bots', status: i < 5 ? '500' : '200' });
      m.http.duration.observe({ method: 'GET', route: '/api/bots', status: '200' }, 1.5);
    }
    m.recordHealthCheck('database', false, 0.01);
    m.recordHealthCheck('cache', true, 0.001);
    m.cache.hit();
    m.cache.miss();
    app = createServer(async (_req, res) => {
      // Keep counters moving so rate() has something to compute.
      m.http.requests.inc({ method: 'GET', route: '/api/bots', status: '500' });
      m.http.requests.inc({ method: 'GET', route: '/api/bots', status: '200' });
      m.http.duration.observe({ method: 'GET', route: '/api/bots', status: '200' }, 1.5);
      res.setHeader('content-type', m.registry.contentType);
      res.end(await m.registry.metrics());
    });
    await new Promise<void>((r) => app?.listen(0, '127.0.0.1', r));
    const appPort = (app.address() as AddressInfo).port;
    const promPort = await freePort();
    const { files, groups } = generateOps({
      job: 'deia-it',
      prefix: 'deia_',
      forScale: 0,
      prometheus: {
        scrapeTargets: [`127.0.0.1:${appPort}`],
        scrapeInterval: '1s',
        evaluationInterval: '1s',
        alertmanagers: [`127.0.0.1:${await freePort()}`],
      },
    });
    writeFileSync(join(dir, 'prometheus.yml'), files['prometheus/prometheus.yml'] as string);
    writeFileSync(join(dir, 'rules.yml'), files['prometheus/rules.yml'] as string);
    prom = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    prom.on('error', () => {});
    const api = `http://127.0.0.1:${promPort}/api/v1`;
    type Rule = { name: string; health: string; lastError?: string; lastEvaluation: string; type: string };
    // Every rule evaluated (lastEvaluation is 0001-01-01 until then) once data arrived; none with an error.
    const rules = await until('every rule to be evaluated with data', async () => {
      const body = (await (await fetch(`${api}/rules`)).json()) as {
        data: { groups: Array<{ rules: Rule[] }> };
      };
      const all = body.data.groups.flatMap((g) => g.rules);
      const up = (await (await fetch(`${api}/query?query=job:deia_http_requests:rate5m`)).json()) as {
        data: { result: unknown[] };
      };
      return all.length > 0 && up.data.result.length > 0 && all.every((r) => r.lastEvaluation > '2000')
        ? all
        : undefined;
    });
    expect(rules.length).toBe(groups.flatMap((g) => g.rules).length);
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);

    type Alert = { labels: Record<string, string>; state: string; annotations: Record<string, string> };
    const alerts = async () =>
      ((await (await fetch(`${api}/alerts`)).json()) as { data: { alerts: Alert[] } }).data.alerts;
    const firing = await until('DatabaseDown to fire', async () => {
      const all = await alerts();
      return all.some((a) => a.state === 'firing' && a.labels.alertname === 'DatabaseDown') ? all : undefined;
    });
    // HighErrorRate and HighLatency hold on the SDK series (their condition without the causal
    // clause has a value) and stay quiet: the database outage explains them (causes.ts).
    for (const name of ['HighErrorRate', 'HighLatency']) {
      const rule = alertRules(groups).find((r) => r.alert === name && r.labels.severity === 'critical');
      const [condition, clause] = (rule?.expr ?? '').split('\nunless on (');
      expect(clause, name).toContain('DatabaseDown');
      await until(`${name}'s condition to hold`, async () => {
        const r = (await (
          await fetch(`${api}/query?query=${encodeURIComponent(condition ?? '')}`)
        ).json()) as {
          data: { result: unknown[] };
        };
        return r.data.result.length > 0 ? true : undefined;
      });
    }
    // Quiet from the first evaluation of their group after DatabaseDown fired (1s here).
    await until('HighErrorRate and HighLatency to be quiet', async () =>
      (await alerts()).some((a) => ['HighErrorRate', 'HighLatency'].includes(a.labels.alertname ?? ''))
        ? undefined
        : true,
    );
    const db = firing.find((a) => a.labels.alertname === 'DatabaseDown');
    expect(db?.labels).toMatchObject({ job: 'deia-it', check: 'database', severity: 'critical' });
    expect(db?.annotations.runbook_url).toMatch(/\/DatabaseDown\.md$/);
    // CacheDown must not fire: the cache check passes.
    expect(firing.some((a) => a.labels.alertname === 'CacheDown')).toBe(false);
    // Every 5m HTTP recording rule (quantiles, error ratios, the le="0.2" slow ratio) produced a series.
    for (const name of recordingRuleNames(groups).filter(
      (n) => n.includes('http_request') && /(_5m|rate5m)$/.test(n),
    )) {
      const r = (await (await fetch(`${api}/query?query=${encodeURIComponent(name)}`)).json()) as {
        data: { result: unknown[] };
      };
      expect(r.data.result.length, name).toBeGreaterThan(0);
    }
    expect(alertRules(groups).length).toBeGreaterThan(30);
  }, 60_000);
});
