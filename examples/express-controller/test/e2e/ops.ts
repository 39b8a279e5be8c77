// Builds the ops folder the test runs Prometheus and Alertmanager from: the generator's output
// (`generateOps` from @deia/metrics/ops) with the test's targets, 1 s intervals, short `for:` and
// the webhook receiver, plus test-only time compression the generator has no option for.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressRanges, setYamlDurations } from './overrides.js';

/** The generator's source entry (imported by path: vitest aliases `@deia/metrics` to one file). */
export const OPS_ENTRY = fileURLToPath(
  new URL('../../../../packages/metrics/src/ops/index.ts', import.meta.url),
);

/** Structural view of the generator's API, checked at run time so a rename fails clearly. */
interface OpsModule {
  generateOps(options: Record<string, unknown>): { files: Record<string, string> };
}

export async function loadGenerator(): Promise<OpsModule> {
  if (!existsSync(OPS_ENTRY)) {
    throw new Error(`the ops generator is missing: ${OPS_ENTRY} does not exist`);
  }
  const mod = (await import(OPS_ENTRY)) as Partial<OpsModule>;
  if (typeof mod.generateOps !== 'function') {
    throw new Error('@deia/metrics/ops does not export generateOps(options)');
  }
  return mod as OpsModule;
}

export interface TestOpsOptions {
  dir: string;
  job: string;
  controllerTarget: string;
  alertmanagerTarget: string;
  webhookUrl: string;
  /**
   * Time compression: `for:` durations are multiplied by `1 / timeScale` (through the generator's
   * `forScale`) and, as a test-only rewrite, every range selector in the rules is divided by it,
   * so an alert written for minutes fires and clears in seconds.
   */
  timeScale: number;
  /** Extra generator options (thresholds...), merged over the test's. */
  generatorOptions?: Record<string, unknown>;
}

export interface TestOpsFiles {
  prometheusConfig: string;
  alertmanagerConfig: string;
  ruleFiles: string[];
  /** Every file written, relative path -> content (after the test's rewrites). */
  files: Record<string, string>;
}

const isAlertmanagerConfig = (text: string) => /^receivers:/m.test(text) && /^route:/m.test(text);
const isPrometheusConfig = (text: string) => /^scrape_configs:/m.test(text);
const isRuleFile = (text: string) => /^groups:/m.test(text) && /\b(alert|record):/.test(text);

export async function writeTestOps(options: TestOpsOptions): Promise<TestOpsFiles> {
  const { generateOps } = await loadGenerator();
  const generated = generateOps({
    job: options.job,
    forScale: 1 / options.timeScale,
    prometheus: {
      scrapeTargets: [options.controllerTarget],
      scrapeInterval: '1s',
      evaluationInterval: '1s',
      alertmanagers: [options.alertmanagerTarget],
    },
    alertmanager: { webhookUrl: options.webhookUrl },
    ...options.generatorOptions,
  });
  const files: Record<string, string> = {};
  let prometheusConfig: string | undefined;
  let alertmanagerConfig: string | undefined;
  const ruleFiles: string[] = [];
  for (const [relative, original] of Object.entries(generated.files)) {
    let content = original;
    if (/\.ya?ml$/.test(relative)) {
      if (isAlertmanagerConfig(content)) {
        // Notify within a second of a change, never repeat during the test.
        content = setYamlDurations(content, ['group_wait', 'group_interval'], '1s');
        content = setYamlDurations(content, ['repeat_interval'], '1h');
        alertmanagerConfig = join(options.dir, relative);
      } else if (isPrometheusConfig(content)) {
        prometheusConfig = join(options.dir, relative);
      } else if (isRuleFile(content)) {
        content = compressRanges(content, options.timeScale);
        ruleFiles.push(join(options.dir, relative));
      }
    }
    files[relative] = content;
    const target = join(options.dir, relative);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  if (prometheusConfig === undefined || alertmanagerConfig === undefined || ruleFiles.length === 0) {
    throw new Error(
      `generateOps output lacks a prometheus.yml, an Alertmanager config or rule files; got: ${Object.keys(generated.files).join(', ')}`,
    );
  }
  return { prometheusConfig, alertmanagerConfig, ruleFiles, files };
}
