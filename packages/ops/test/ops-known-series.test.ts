import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetrics, type Metrics } from '@deia/metrics';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateOps } from '../src/index.js';
import { runPromtool } from './promtool.js';

const JOB = 'deia-bot-controller';
const dir = mkdtempSync(join(tmpdir(), 'deia-ops-known-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The value of `bot_start_errors_total{bot_id}` in one scrape, or undefined when the series does not exist. */
async function scrape(registry: Metrics['registry'], botId: string): Promise<number | undefined> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`bot_start_errors_total{bot_id="${botId}"}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/** Scrapes once a minute: before the start (if anything exists), right after the failing start, then steady. */
async function scrapes(register: boolean): Promise<string> {
  // A new registry each time (createMetrics never uses prom-client's global one).
  const m = createMetrics({ groups: ['bots'], warn: () => {} });
  if (register) m.bots.register('bot-1');
  const before = await scrape(m.registry, 'bot-1');
  await expect(
    m.bots.trackStartup('bot-1', () => {
      throw new Error('no token');
    }),
  ).rejects.toThrow('no token');
  const after = await scrape(m.registry, 'bot-1');
  expect(after).toBe(1);
  return `${before === undefined ? '_' : before} ${after}x10`;
}

function firesAt(values: string): boolean {
  writeFileSync(join(dir, 'rules.yml'), generateOps({}).files['prometheus/rules.yml'] as string);
  const expectFiring = (firing: boolean) => ({
    rule_files: ['rules.yml'],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: [
          { series: `bot_start_errors_total{job="${JOB}",instance="app:8000",bot_id="bot-1"}`, values },
        ],
        promql_expr_test: [
          {
            expr: 'ALERTS{alertname="BotStartErrors",alertstate="firing"}',
            eval_time: '3m',
            exp_samples: firing
              ? [
                  {
                    labels: `ALERTS{alertname="BotStartErrors",alertstate="firing",bot_id="bot-1",job="${JOB}",severity="warning"}`,
                    value: 1,
                  },
                ]
              : [],
          },
        ],
      },
    ],
  });
  writeFileSync(join(dir, 'fires.yml'), stringify(expectFiring(true)));
  return runPromtool(dir, ['test', 'rules', 'fires.yml'], { timeoutMs: 60_000 }).out.includes('SUCCESS');
}

describe('a bot whose first start fails before the first scrape', () => {
  it('pages BotStartErrors when the bot was registered (its counter scraped at 0 first)', async () => {
    const values = await scrapes(true);
    expect(values).toBe('0 1x10');
    expect(firesAt(values)).toBe(true);
  });

  it('pages BotStartErrors without register too: the counter is born at 1, and the rule counts a new series whole', async () => {
    const values = await scrapes(false);
    expect(values).toBe('_ 1x10');
    expect(firesAt(values)).toBe(true);
  });
});
