import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeOps } from './generate.js';
import { parseNativeHistogramsFlag } from './options-native.js';
import type { OpsOptions } from './types.js';

const USAGE = `Usage: deia-observability generate --out <dir> [--config <ops.config.json>] [--target files|kubernetes]
       [--native-histograms all|none|<histogram>,<histogram>]

Writes Prometheus rules and prometheus.yml, alertmanager.yml and Grafana dashboards and
provisioning files for the @deia/metrics catalog (from @deia/ops); with --target kubernetes,
the same rules, routes and dashboards as Prometheus Operator resources (PrometheusRule,
ServiceMonitor or PodMonitor, AlertmanagerConfig) and Grafana dashboard ConfigMaps.

Options:
  -o, --out <dir>        output directory (created if missing)
  -c, --config <file>    JSON file with generator options (job, prefix, thresholds, for, kubernetes, ...)
  -t, --target <target>  files (default) or kubernetes
  --native-histograms <all|none|names>
                         histograms Prometheus stores as native histograms (overrides the
                         config's nativeHistograms): their rules and panels read the native
                         series with histogram_quantile/histogram_fraction (default: none)
  -h, --help             show this help`;

/** Runs `deia-observability` with `argv` (without node and script); returns the exit code. */
export function main(
  argv: string[],
  out: (s: string) => void = console.log,
  err: (s: string) => void = console.error,
): number {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof optionsSpec; allowPositionals: true }>>;
  const optionsSpec = {
    out: { type: 'string', short: 'o' },
    config: { type: 'string', short: 'c' },
    target: { type: 'string', short: 't', default: 'files' },
    'native-histograms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  try {
    parsed = parseArgs({ args: argv, options: optionsSpec, allowPositionals: true, strict: true });
  } catch (e) {
    err(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'generate') {
    err(
      `error: expected the command "generate"${positionals.length ? `, got "${positionals.join(' ')}"` : ''}.\n\n${USAGE}`,
    );
    return 2;
  }
  if (!values.out) {
    err(`error: --out <dir> is required.\n\n${USAGE}`);
    return 2;
  }
  const target = values.target as string;
  if (target !== 'files' && target !== 'kubernetes') {
    err(`error: --target must be "files" or "kubernetes", got "${target}".\n\n${USAGE}`);
    return 2;
  }
  let options: OpsOptions = {};
  if (values.config) {
    let text: string;
    try {
      text = readFileSync(resolve(values.config), 'utf8');
    } catch (e) {
      err(
        `error: cannot read --config ${values.config}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
      return 2;
    }
    try {
      options = JSON.parse(text) as OpsOptions;
    } catch (e) {
      err(`error: --config ${values.config} is not valid JSON: ${(e as Error).message}`);
      return 2;
    }
  }
  try {
    const native = values['native-histograms'];
    if (native !== undefined) options = { ...options, nativeHistograms: parseNativeHistogramsFlag(native) };
    const written = writeOps(values.out, options, target);
    out(`wrote ${written.length} files to ${values.out}`);
    return 0;
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return 1;
  }
}
