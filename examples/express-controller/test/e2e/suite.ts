// The end-to-end alerting suite, run once per example controller (the controllers share the bot
// core and differ in the framework adapter, which is what the alerts observe): the example against
// real PostgreSQL, a Redis this suite owns, an Ollama-like server, and a real Prometheus +
// Alertmanager loaded with the generated ops files. Faults are injected one at a time; each must
// reach the webhook receiver as a firing alert with the right severity and receiver, then as
// resolved once the fault is removed.
//
// Time is compressed by TIME_SCALE through the generator's options (see ops.ts): `for:` durations
// by `forScale`, range selectors and offsets by `windowScale`, Alertmanager's group timers by
// `alertmanager.groupWait` / `groupInterval`; the generated files are used as they are.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateOps, type OpsOptions, referencedSeries } from '@deia/ops';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertmanager, type TestAlertmanager } from './alertmanager.js';
import { controllerMainFile, startController, startTraffic, type TestController } from './controller.js';
import { dropSchema, dropStaleSchemas, newSchemaName } from './database.js';
import { FAKE_MODEL, type FakeOllama, startFakeOllama } from './fake-ollama.js';
import { type TestOpsFiles, writeTestOps } from './ops.js';
import { findBinary, freePort, onEmergencyExit } from './processes.js';
import { startPrometheus, type TestPrometheus } from './prometheus.js';
import { startRedis, type TestRedis } from './redis.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { http, waitFor } from './wait.js';
import { startWebhookRecorder, type WebhookRecorder } from './webhook.js';

const TIME_SCALE = 20;
const JOB = 'deia-bot-controller';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Each fault and the alert that must reach the webhook: the generated rule names, severities and
 * receivers (`alertmanager.webhookUrl` keeps the receiver names critical/warning/info). Where a
 * warning and a critical rule share a name, the fault is big enough for the critical one, which
 * inhibits the warning (inhibit rule: same alertname, job, instance and object labels). One
 * incident, one page: the cause pages and its symptoms (the HTTP errors, the budget burn) are
 * quiet (packages/ops causes.ts); a failing or slow Ollama is one alert (Model*), not also
 * Dependency* on the same calls.
 */
const EXPECTED = {
  cacheDown: { alertname: 'CacheDown', severity: 'warning', receiver: 'warning' },
  databaseDown: { alertname: 'DatabaseDown', severity: 'critical', receiver: 'critical' },
  ollamaLatency: { alertname: 'ModelTimeToFirstChunkHigh', severity: 'warning', receiver: 'warning' },
  ollamaErrors: { alertname: 'ModelErrorRate', severity: 'critical', receiver: 'critical' },
  crashLoop: { alertname: 'BotCrashLoop', severity: 'critical', receiver: 'critical' },
  queueBacklog: { alertname: 'QueueBacklog', severity: 'warning', receiver: 'warning' },
  serviceDown: { alertname: 'ServiceDown', severity: 'critical', receiver: 'critical' },
} as const;

/** Recording rules that must have a value once traffic flows. */
const RECORDING_RULES_WITH_TRAFFIC = [
  'job:http_requests:rate5m',
  'job_route:http_requests:rate5m',
  'job:http_request_duration_seconds:p95_5m',
];

const FIRE_TIMEOUT_MS = 60_000;
const RESOLVE_TIMEOUT_MS = 75_000;
/** Symptoms of a database outage (needed by the requests, the queue and the dispatches). */
const DATABASE_SYMPTOMS = [
  'HighErrorRate',
  'AvailabilityBudgetBurn',
  'QueueBacklog',
  'BotDispatchSlow',
  'HighLatency',
  'LatencyBudgetBurn',
];
/** Symptoms of an LLM failure: explained by their cause, never sent. */
const LLM_SYMPTOMS = ['HighErrorRate', 'AvailabilityBudgetBurn'];

/** A symptom rule's own condition: its expression before the causal clause (packages/ops causes.ts). */
const withoutCausalClause = (expr: string) => {
  const at = expr.lastIndexOf('\nunless on (');
  return at === -1 ? expr : expr.slice(0, at);
};

/** Appended to a skipped suite's title so the report says why. */
const skipReason = (missing: boolean, what: string) =>
  missing ? ` (skipped: ${what} does not exist yet)` : '';

/** Declares the suite for `examples/<example>` (started as `node --import tsx src/main.ts`). */
export function describeAlertingEndToEnd(example: string): void {
  const mainFile = controllerMainFile(example);
  const appMissing = !existsSync(mainFile);
  const opsSuite = `${example}: generated ops in a real Prometheus and Alertmanager`;
  const appSuite = `the ${example}${skipReason(appMissing, `examples/${example}/src/main.ts`)}`;

  describe(opsSuite, () => {
    let dir: string;
    let webhook: WebhookRecorder;
    let ollama: FakeOllama;
    let redis: TestRedis;
    let alertmanager: TestAlertmanager;
    let prometheus: TestPrometheus;
    let ops: TestOpsFiles;
    let controllerPort: number;
    let controller: TestController | undefined;
    /** Between the controller and PostgreSQL: the database outage cuts it. */
    let database: TcpProxy | undefined;
    const started = (): TestController => {
      if (controller === undefined) throw new Error('the controller did not start (see beforeAll)');
      return controller;
    };
    const schema = newSchemaName();
    let forgetTempDir: (() => void) | undefined;

    beforeAll(async () => {
      // Fail, not skip, when a binary is missing: .ci/run installs them.
      findBinary(['prometheus'], 'prometheus');
      findBinary(['alertmanager', 'prometheus-alertmanager'], 'prometheus-alertmanager');
      findBinary(['redis-server'], 'redis-server');
      dir = mkdtempSync(join(tmpdir(), 'deia-e2e-'));
      const tempDir = dir;
      forgetTempDir = onEmergencyExit(() => rmSync(tempDir, { recursive: true, force: true }));
      if (!appMissing) await dropStaleSchemas(DATABASE_URL);
      webhook = await startWebhookRecorder();
      ollama = await startFakeOllama();
      redis = await startRedis(await freePort());
      const [amPort, promPort] = [await freePort(), await freePort()];
      controllerPort = await freePort();
      ops = writeTestOps({
        dir: join(dir, 'ops'),
        job: JOB,
        controllerTarget: `127.0.0.1:${controllerPort}`,
        alertmanagerTarget: `127.0.0.1:${amPort}`,
        webhookUrl: webhook.url,
        timeScale: TIME_SCALE,
        // A first chunk after 0.8 s (the slow-Ollama test) is over the p95 threshold and under the
        // SLO's, so the warning fires and the budget burn does not. Both are bucket bounds.
        generatorOptions: { thresholds: { ttfcP95: 0.64 }, ttfcSlo: { thresholdSeconds: 2.56 } },
      });
      alertmanager = await startAlertmanager({
        configFile: ops.alertmanagerConfig,
        dataDir: join(dir, 'alertmanager'),
        port: amPort,
      });
      prometheus = await startPrometheus({
        configFile: ops.prometheusConfig,
        dataDir: join(dir, 'prometheus'),
        port: promPort,
      });
    }, 90_000);

    afterAll(async () => {
      // This suite's processes by PID (a restart replaced some handles, hence the getters). Not
      // stopAll(): the other controller's suite runs at the same time. Anything a failed start
      // left behind is killed by the exit hook of processes.ts.
      await Promise.all([
        controller?.process.stop(),
        prometheus?.process.stop(),
        alertmanager?.process.stop(),
        redis?.stop(),
      ]);
      await webhook?.close();
      await ollama?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
      forgetTempDir?.();
      if (!appMissing) await dropSchema(DATABASE_URL, schema);
    }, 60_000);

    it('loads every generated rule and evaluates it without error', async () => {
      const rules = await waitFor(
        'every rule evaluated at least once',
        async () => {
          const all = await prometheus.rules();
          return all.length > 0 && all.every((rule) => rule.health !== 'unknown') && all;
        },
        { timeoutMs: 20_000 },
      );
      const broken = rules.filter((rule) => rule.health !== 'ok');
      expect(broken.map((rule) => `${rule.name}: ${rule.lastError}`)).toEqual([]);
      expect(rules.some((rule) => rule.type === 'alerting')).toBe(true);
      expect(rules.some((rule) => rule.type === 'recording')).toBe(true);
    }, 30_000);

    // The scenarios share one controller and must not overlap: sequential even when the
    // suites of the two controllers run concurrently.
    describe.skipIf(appMissing).sequential(appSuite, () => {
      let traffic: ReturnType<typeof startTraffic>;
      const botIds = ['e2e-bot-1', 'e2e-bot-2', 'e2e-crash'];
      /** Off while the queue test counts its own tasks. */
      let backgroundMessages = true;

      const api = (path: string, method = 'GET', body?: unknown) =>
        http(`${started().url}${path}`, { method, body, timeoutMs: 15_000 });
      const diagnose = async () =>
        [
          `webhook:\n${webhook.summary()}`,
          await prometheus.describeAlerts().catch(String),
          await alertmanager.describeAlerts().catch(String),
          controller?.tail(15) ?? '',
        ].join('\n');

      type Expected = { alertname: string; severity: string; receiver: string };

      /**
       * Waits for `expected` to reach the webhook firing with its severity (a warning rule of the
       * same name may fire first), then checks which receiver delivered it.
       */
      async function expectFired(expected: Expected, since: number): Promise<void> {
        const fired = await webhook.waitFor(
          { alertname: expected.alertname, status: 'firing', since, labels: { severity: expected.severity } },
          FIRE_TIMEOUT_MS,
        );
        expect(fired.receiver, `receiver of the firing ${expected.alertname} notification`).toBe(
          expected.receiver,
        );
      }

      /** Waits for `expected` to reach the webhook resolved, through the same receiver. */
      async function expectResolved(
        expected: Expected,
        since: number,
        timeoutMs = RESOLVE_TIMEOUT_MS,
      ): Promise<void> {
        const resolved = await webhook.waitFor(
          {
            alertname: expected.alertname,
            status: 'resolved',
            since,
            labels: { severity: expected.severity },
          },
          timeoutMs,
        );
        expect(resolved.receiver, `receiver of the resolved ${expected.alertname} notification`).toBe(
          expected.receiver,
        );
      }

      /** Names of the alerts the webhook received firing since `since` (critical only: the pages). */
      const notifiedSince = (since: number, severity?: string) =>
        [
          ...new Set(
            webhook.received
              .filter(
                (a) =>
                  a.status === 'firing' &&
                  a.receivedAt >= since &&
                  (severity === undefined || a.labels.severity === severity),
              )
              .map((a) => a.labels.alertname ?? ''),
          ),
        ].sort();

      /**
       * Waits until the condition of one of `names` (a critical rule without its causal clause)
       * holds in Prometheus, so the fault did produce the symptoms, then checks that none of them
       * can page: Prometheus keeps them quiet (their cause explains them, packages/ops causes.ts),
       * and one that fired before its cause is held inhibited by Alertmanager.
       */
      async function expectExplained(names: readonly string[]): Promise<void> {
        const conditions = ops.groups
          .flatMap((g) => g.rules)
          .flatMap((r) =>
            'alert' in r && names.includes(r.alert) && r.labels.severity === 'critical'
              ? [{ alert: r.alert, expr: withoutCausalClause(r.expr) }]
              : [],
          );
        await waitFor(
          `the condition of one of ${names.join(', ')} to hold in Prometheus`,
          async () => {
            for (const c of conditions) if ((await prometheus.query(c.expr)).length > 0) return c.alert;
            return false;
          },
          { timeoutMs: FIRE_TIMEOUT_MS, diagnose: () => alertmanager.describeAlerts() },
        );
        const held = (await alertmanager.alerts()).filter((a) => names.includes(a.alertname));
        expect(
          held.filter((a) => !a.inhibited).map((a) => `${a.alertname}/${a.severity}`),
          'symptoms Alertmanager holds and does not inhibit',
        ).toEqual([]);
      }

      /** Runs a fault scenario; on failure adds what the webhook, Prometheus and Alertmanager saw. */
      async function scenario(run: () => Promise<void>, cleanup: () => Promise<unknown>): Promise<void> {
        try {
          await run();
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new Error(`${message}\n--- diagnosis ---\n${await diagnose()}`, { cause: error });
        } finally {
          await cleanup().catch(() => undefined);
        }
      }

      beforeAll(async () => {
        const target = new URL(DATABASE_URL);
        database = await startTcpProxy(target.hostname, Number(target.port || 5432));
        const throughProxy = new URL(DATABASE_URL);
        throughProxy.host = database.address;
        controller = await startController({
          example,
          port: controllerPort,
          env: {
            DATABASE_URL: throughProxy.toString(),
            DB_SCHEMA: schema,
            REDIS_URL: redis.url,
            OLLAMA_URL: ollama.url,
            OLLAMA_MODEL: FAKE_MODEL,
            OLLAMA_TIMEOUT_MS: '5000',
            DEIA_EXAMPLE_FAULTS: '1',
            BOT_RESTART_BACKOFF_MS: '200',
            BOT_RESTART_BACKOFF_MAX_MS: '1000',
            MESSAGE_WAIT_MS: '3000',
            LLM_USD_PER_MILLION_TOKENS: '0.15,0.6',
            LOG_LEVEL: 'warn',
          },
        });
        for (const id of botIds.slice(0, 2)) {
          const answer = await api(`/api/bot/${id}/start`, 'POST');
          expect(answer.status, `start ${id}: ${answer.body}`).toBeLessThan(300);
        }
        // Background traffic for the whole run: reads (one of them cached), health (refreshes
        // health_check_up), messages and streamed chats.
        let n = 0;
        traffic = startTraffic(
          async () => {
            n += 1;
            if (n % 5 === 0 && backgroundMessages) {
              const route = n % 10 === 0 ? 'message' : 'chat';
              return (await api(`/api/bot/${botIds[n % 2]}/${route}`, 'POST', { message: `hi ${n}` })).status;
            }
            if (n % 5 === 1) return (await api('/health')).status;
            // One bot's status goes through the Redis status cache (cache_hits/misses_total).
            if (n % 5 === 2) return (await api(`/api/bot/${botIds[0]}`)).status;
            return (await api('/api/bots')).status;
          },
          { concurrency: 2, pauseMs: 50 },
        );
      }, 90_000);

      afterAll(async () => {
        await traffic?.stop();
        await database?.close();
      }, 30_000);

      it('Prometheus scrapes the controller and the recording rules have values', async () => {
        await waitFor(
          `target 127.0.0.1:${controllerPort} up`,
          async () => (await prometheus.query(`up{job="${JOB}"} == 1`)).length === 1,
          { timeoutMs: 30_000, diagnose: async () => JSON.stringify(await prometheus.targets()) },
        );
        const emptyRules = async () => {
          const empty: string[] = [];
          for (const name of RECORDING_RULES_WITH_TRAFFIC) {
            if ((await prometheus.query(name)).length === 0) empty.push(name);
          }
          return empty;
        };
        const missing = await waitFor(
          `recording rules ${RECORDING_RULES_WITH_TRAFFIC.join(', ')} to have values`,
          async () => {
            const empty = await emptyRules();
            return empty.length === 0 && empty;
          },
          {
            timeoutMs: 30_000,
            intervalMs: 1_000,
            diagnose: async () => `without a value: ${(await emptyRules()).join(', ')}`,
          },
        );
        expect(missing).toEqual([]);
      }, 70_000);

      it('cache down: stopping Redis fires the cache alert, restarting it resolves it', async () => {
        const since = Date.now();
        await scenario(
          async () => {
            await redis.stop();
            await expectFired(EXPECTED.cacheDown, since);
            const recoveredAt = Date.now();
            await redis.restart();
            await expectResolved(EXPECTED.cacheDown, recoveredAt);
            // One notification for the incident: no page, no other warning.
            expect(notifiedSince(since)).toEqual(['CacheDown']);
          },
          async () => {
            if (redis.process.hasExited()) await redis.restart();
          },
        );
      }, 180_000);

      it('Ollama failing half of its calls pages once (ModelErrorRate), the HTTP errors and the budget burn stay quiet, all resolve when it recovers', async () => {
        const since = Date.now();
        // Messages are what reach Ollama: more of them on top of the background loop.
        const messages = startTraffic(
          async () => (await api(`/api/bot/${botIds[0]}/message`, 'POST', { message: 'hello' })).status,
          { concurrency: 4, pauseMs: 20 },
        );
        const recover = async () => {
          ollama.setFailureRatio(0);
          await messages.stop();
        };
        await scenario(async () => {
          ollama.setFailureRatio(0.5);
          await expectFired(EXPECTED.ollamaErrors, since);
          // The requests that needed the LLM fail too: HighErrorRate's (and the budget burn's)
          // conditions hold, and they stay quiet: ModelErrorRate explains them.
          await expectExplained(LLM_SYMPTOMS);
          const recoveredAt = Date.now();
          await recover();
          await expectResolved(EXPECTED.ollamaErrors, recoveredAt);
          // The symptoms stay quiet after their cause (their window still holds the errors: the
          // causal clause reads the cause's ALERTS over it) instead of paging once it resolved.
          await waitFor(
            `critical ${LLM_SYMPTOMS.join(', ')} gone from Alertmanager`,
            async () =>
              !(await alertmanager.alerts()).some(
                (a) => LLM_SYMPTOMS.includes(a.alertname) && a.severity === 'critical',
              ),
            { timeoutMs: RESOLVE_TIMEOUT_MS, diagnose: () => alertmanager.describeAlerts() },
          );
          expect(notifiedSince(since, 'critical')).toEqual(['ModelErrorRate']);
        }, recover);
      }, 240_000);

      it('a slow Ollama fires the time-to-first-chunk alert, which resolves when it is fast again', async () => {
        const since = Date.now();
        // Streamed chats: their first chunk is what a user waits for.
        const messages = startTraffic(
          async () => (await api(`/api/bot/${botIds[1]}/chat`, 'POST', { message: 'take your time' })).status,
          { concurrency: 4, pauseMs: 20 },
        );
        const recover = async () => {
          ollama.setDelayMs(0);
          await messages.stop();
        };
        await scenario(async () => {
          // Above the p95 threshold (0.64 s), under the SLO's 2.56 s, well under the stream timeouts.
          ollama.setDelayMs(800);
          await expectFired(EXPECTED.ollamaLatency, since);
          const recoveredAt = Date.now();
          await recover();
          await expectResolved(EXPECTED.ollamaLatency, recoveredAt);
        }, recover);
      }, 180_000);

      it('a bot crashing on every start fires the crash-loop alert, which resolves once it stays up', async () => {
        const id = botIds[2];
        const since = Date.now();
        const clear = () => api(`/api/admin/bots/${id}/crash`, 'DELETE');
        await scenario(async () => {
          const inject = await api(`/api/admin/bots/${id}/crash`, 'POST');
          expect(inject.status, inject.body).toBeLessThan(300);
          await api(`/api/bot/${id}/start`, 'POST');
          await expectFired(EXPECTED.crashLoop, since);
          expect(notifiedSince(since, 'critical')).toEqual(['BotCrashLoop']);
          const recoveredAt = Date.now();
          const cleared = await clear();
          expect(cleared.status, cleared.body).toBeLessThan(300);
          await expectResolved(EXPECTED.crashLoop, recoveredAt);
        }, clear);
      }, 240_000);

      it('a paused queue with tasks piling up fires the backlog alert, which resolves when it drains', async () => {
        const since = Date.now();
        const resume = () => api('/api/admin/queue/resume', 'POST');
        await scenario(
          async () => {
            backgroundMessages = false;
            const pause = await api('/api/admin/queue/pause', 'POST');
            expect(pause.status, pause.body).toBeLessThan(300);
            // Above the warning threshold (20), below the critical one (40).
            const answers = await Promise.all(
              Array.from({ length: 25 }, (_, i) =>
                api(`/api/bot/${botIds[i % 2]}/message`, 'POST', { message: `queued ${i}` }),
              ),
            );
            expect(answers.filter((a) => a.status >= 400).map((a) => a.body)).toEqual([]);
            await expectFired(EXPECTED.queueBacklog, since);
            const recoveredAt = Date.now();
            const resumed = await resume();
            expect(resumed.status, resumed.body).toBeLessThan(300);
            await expectResolved(EXPECTED.queueBacklog, recoveredAt);
          },
          async () => {
            await resume();
            backgroundMessages = true;
          },
        );
      }, 180_000);

      it('a PostgreSQL outage pages once (DatabaseDown), its symptoms stay quiet, all resolve when it returns', async () => {
        const proxy = database;
        if (proxy === undefined) throw new Error('no database proxy (see beforeAll)');
        const since = Date.now();
        const restore = async () => proxy.setDown(false);
        await scenario(async () => {
          proxy.setDown(true);
          await expectFired(EXPECTED.databaseDown, since);
          // Messages queue up and requests fail while the database is away: their conditions hold
          // and they stay quiet (DatabaseDown explains them).
          await expectExplained(DATABASE_SYMPTOMS);
          const recoveredAt = Date.now();
          await restore();
          await expectResolved(EXPECTED.databaseDown, recoveredAt);
          await waitFor(
            'the critical symptoms of the outage gone from Alertmanager',
            // Pages only: the slow budget-burn ticket (warning) reports budget the outage really spent.
            async () =>
              !(await alertmanager.alerts()).some(
                (a) => DATABASE_SYMPTOMS.includes(a.alertname) && a.severity === 'critical',
              ),
            { timeoutMs: RESOLVE_TIMEOUT_MS, diagnose: () => alertmanager.describeAlerts() },
          );
          expect(notifiedSince(since, 'critical')).toEqual(['DatabaseDown']);
        }, restore);
      }, 240_000);

      it("every series the example's committed ops/ reads has data after the traffic and faults above", async () => {
        // Rules and panels must not read series nothing writes (they would stay silent or "No data").
        const config = JSON.parse(
          readFileSync(join(dirname(mainFile), '..', 'ops', 'ops.config.json'), 'utf8'),
        ) as OpsOptions;
        const wanted = referencedSeries(generateOps(config)).filter((n) => !n.startsWith('node_'));
        // This Prometheus is the suite's own: every name it has seen since it started.
        const start = Math.floor(Date.now() / 1000) - 3600;
        const { body } = await http(`${prometheus.url}/api/v1/label/__name__/values?start=${start}`, {
          timeoutMs: 5_000,
        });
        const present = new Set((JSON.parse(body) as { data: string[] }).data);
        expect(wanted.length).toBeGreaterThan(20);
        expect(wanted.filter((n) => !present.has(n))).toEqual([]);
      }, 30_000);

      it('killing the controller fires the service-down alert, restarting it resolves it', async () => {
        await traffic.stop();
        const since = Date.now();
        await scenario(
          async () => {
            await started().kill();
            await expectFired(EXPECTED.serviceDown, since);
            const recoveredAt = Date.now();
            await started().restart();
            await expectResolved(EXPECTED.serviceDown, recoveredAt);
            expect(notifiedSince(since, 'critical')).toEqual(['ServiceDown']);
          },
          async () => undefined,
        );
      }, 180_000);
    });
  });
}
