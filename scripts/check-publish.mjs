// Checks what we publish: the API reports (scripts/api-report.mjs), publint and @arethetypeswrong/cli (every resolution profile: node10,
// node16 from CJS and ESM, bundler) on every package's packed tarball, a size budget for every
// package, one `engines.node` for all (scripts/runtime.mjs throws otherwise), then installs the
// tarballs into a fresh project and imports each package from ESM and CJS.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { checkApiReports } from './api-report.mjs';
import { checkSnippets } from './check-snippets.mjs';
import { ENGINES_NODE } from './runtime.mjs';

const root = resolve(import.meta.dirname, '..');
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    pkg: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter(({ pkg }) => !pkg.private && pkg.exports);

// Size budgets (bytes) and runtime dependency counts, every published package: @deia/metrics is
// loaded by every service, @deia/ops only by whoever generates the ops files. Figures in
// packages/ops/README.md and docs/benchmarks.md; source maps are about half of each unpacked size.
const BUDGETS = {
  // metrics: the cluster aggregator's own IPC, exemplars and negotiation (issue 14), the catalog's
  // zero-init hooks and alert specs (issue 12), the adapter entry (`.` and `./adapter`, one shared
  // chunk) and the structural client types (issue 13), the cache memory/eviction series: measured
  // 194 KB packed / 724 KB unpacked, of which about two thirds are source maps; then the scrape
  // renderer over the SDK's own state (sliced, bounded, gzip as it renders) and the series
  // lifecycle (remove, budgets, idle TTL, the logger) of issue 25: 252 KB / 966 KB; then native
  // histograms (recording, bucket math, reduction, the cluster merge) of issue 23: 306 KB / 1,172 KB;
  // then its protobuf exposition (a hand-written encoder, no dependency), escaping and created
  // timestamps: about 350 KB / 1,360 KB; then the GenAI model-call recording of issue 22 (streamed
  // NDJSON scanner, the llm catalog with the deprecated llm_* kept for a release, residency gauges):
  // 403 KB / 1,566 KB, of which 935 KB unpacked are the source maps (kept: stack traces into the
  // SDK read as its TypeScript). Then issue 24: the maps carry no sources and src/ ships once
  // (the maps had two copies of every source line, comments included): 334 KB / 1,337 KB with the
  // split observer and createMetrics; the budgets below are the new sizes plus about 5%.
  '@deia/metrics': { tarball: 352_000, unpacked: 1_410_000, dependencies: 0 },
  // ops: the kubernetes target (issue 14), the catalog view, rule families and the promtool test
  // generator of extra-metric alerts, the dashboards split by file (issue 12): measured 908 KB
  // unpacked; source maps are about two thirds of it
  // then the causal table, first-failure rules, host/incident panels and the overflow alert
  // (issues 21, 25): 242 KB / 1,014 KB; with the opt-in postgres_exporter/redis_exporter
  // dashboards, jobs and ServiceMonitors 254 KB / 1,088 KB; with the native-histogram variant of
  // the rules and panels (issue 23) 269 KB / 1,143 KB (npm pack); the model rules, their options
  // and the AI Models dashboard (issue 22): 280 KB / 1,206 KB before the native variant; then maps
  // without sources and src/ once (issue 24): 249 KB / 1,056 KB
  '@deia/ops': { tarball: 262_000, unpacked: 1_110_000, dependencies: 3 },
  // health: the connection drain of createShutdown and the detail-token gate on every endpoint
  // (issue 20): measured 137 KB packed / 508 KB unpacked, source maps about 60% of it; the /api/ps
  // collector and ollamaCheck's residentModel (issue 22): 151 KB / 560 KB; maps without sources
  // and src/ once (issue 24): 128 KB / 473 KB
  '@deia/health': { tarball: 135_000, unpacked: 500_000, dependencies: 0 },
  // Express 4 route templates from public API only (URL-derived mounts, url-value-parser): from
  // 14.7 KB / 72.7 KB to 28.9 KB / 108 KB (code, two source maps with their sources, README);
  // maps without sources and src/ once (issue 24): 24.9 KB / 107 KB
  '@deia/express': { tarball: 27_000, unpacked: 113_000, dependencies: 3 },
  // maps without sources and src/ once (issue 24): 11.8 KB / 43 KB
  '@deia/fastify': { tarball: 13_000, unpacked: 47_000, dependencies: 3 },
  // the OpenTelemetry trace SDK, OTLP exporters and the instrumentations it loads on demand: 144 KB
  // packed; then the one options contract (@deia/options) bundled in, one copy per output file that
  // validates (the shared chunk and ./register, each in ESM and CJS): 169 KB / 586 KB, source maps
  // about two thirds of the growth; the streamed GenAI spans (issue 22, in `.` and `./spans`):
  // 179 KB / 679 KB; maps without sources and src/ once (issue 24): 118 KB / 509 KB
  '@deia/tracing': { tarball: 125_000, unpacked: 540_000, dependencies: 14 },
};
// The published types must compile with either Prometheus client installed (or neither): no .d.ts
// may import 'prom-client' or '@prometheus-io/client' (TS2307 for whoever lacks that one).
const CLIENT_IMPORT =
  /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](?:prom-client|@prometheus-io\/client)['"]/;
function checkTypesImportNoClient(tarball) {
  const files = run('tar', ['-tzf', tarball], root)
    .split('\n')
    .filter((f) => /\.d\.c?ts$/.test(f));
  const offending = files.filter((f) => CLIENT_IMPORT.test(run('tar', ['-xzOf', tarball, f], root)));
  if (offending.length) {
    throw new Error(
      `declarations import the Prometheus client (use structural types): ${offending.join(', ')}`,
    );
  }
  return files.length ? ', types free of client imports' : '';
}

// The options contract (@deia/options) is a private workspace package: tsup bundles it into each
// package (tsup.config.base.ts, `noExternal` and `dts.resolve`). A published file that still imports
// it, or a manifest that lists it as a dependency, would fail to install or to type-check for users.
const PRIVATE_IMPORT = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]@deia\/options['"]/;
function checkPrivateBundled(pkg, tarball) {
  if (pkg.dependencies?.['@deia/options'] || pkg.peerDependencies?.['@deia/options'])
    throw new Error('@deia/options is private: list it in devDependencies (it is bundled)');
  const files = run('tar', ['-tzf', tarball], root)
    .split('\n')
    .filter((f) => /\.(?:c?js|d\.c?ts)$/.test(f));
  const offending = files.filter((f) => PRIVATE_IMPORT.test(run('tar', ['-xzOf', tarball, f], root)));
  if (offending.length)
    throw new Error(`imports the private @deia/options (bundle it): ${offending.join(', ')}`);
  return ', @deia/options bundled';
}

function checkEngines(pkg) {
  if (pkg.engines?.node !== ENGINES_NODE)
    throw new Error(`engines.node ${pkg.engines?.node}: every package declares ${ENGINES_NODE}`);
  return `, engines ${ENGINES_NODE}`;
}

function checkBudget(pkg, tarball) {
  const budget = BUDGETS[pkg.name];
  if (!budget) throw new Error(`no size budget: add ${pkg.name} to BUDGETS in scripts/check-publish.mjs`);
  const unpacked = run('tar', ['-tzvf', tarball], root)
    .split('\n')
    .reduce((sum, line) => sum + (Number(line.trim().split(/\s+/)[2]) || 0), 0);
  const actual = {
    tarball: statSync(tarball).size,
    unpacked,
    dependencies: Object.keys(pkg.dependencies ?? {}).length,
  };
  const over = Object.keys(budget).filter((k) => actual[k] > budget[k]);
  if (over.length)
    throw new Error(`over budget: ${over.map((k) => `${k} ${actual[k]} > ${budget[k]}`).join(', ')}`);
  return `, budget (${actual.tarball} B packed, ${actual.unpacked} B unpacked, ${actual.dependencies} deps)`;
}

/**
 * The README's "## API" section names every value the package root exports (functions,
 * constants, classes: from the checked-in API report of the root entry) and fits on one screen
 * (40 lines): a newcomer reads the whole surface there, a line each.
 */
function checkReadmeApi(dir) {
  const short = basename(dir);
  const report = join(dir, 'etc', `${short}.api.md`);
  if (!existsSync(report)) return '';
  const values = [
    ...readFileSync(report, 'utf8').matchAll(
      /^export (?:declare )?(?:function|const|class|let) ([A-Za-z0-9_]+)/gm,
    ),
  ].map((m) => m[1]);
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  const section = /^## API\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1];
  if (section === undefined) throw new Error('README.md has no "## API" section listing the root exports');
  const lines = section.trim().split('\n').length;
  if (lines > 40) throw new Error(`README.md's API section is ${lines} lines (one screen: 40 at most)`);
  const missing = [...new Set(values)].filter((v) => !new RegExp(`\`${v}[\`(.<]`).test(section));
  if (missing.length) throw new Error(`README.md's API section does not name: ${missing.join(', ')}`);
  return `, README API (${new Set(values).size} values)`;
}

const out = mkdtempSync(join(tmpdir(), 'deia-pack-'));
// The exported surface of every entry against its checked-in API report (etc/*.api.md), and a
// contract comment on every exported name: `pnpm run api:update` after a reviewed change.
let failed = checkApiReports();
try {
  const tarballs = [];
  for (const { dir, pkg } of packages) {
    try {
      run('pnpm', ['exec', 'publint', '--strict'], dir);
      // every resolution mode users have: node10 needs `typesVersions` for each subpath export
      const attwArgs = ['exec', 'attw', '--pack', '.', '--format', 'ascii', '--profile', 'strict'];
      if (pkg.attw) throw new Error('package.json "attw": no per-package profile or ignored rules');
      run('pnpm', attwArgs, dir);
      const packed = run('pnpm', ['pack', '--pack-destination', out], dir).trim().split('\n').pop();
      tarballs.push({ name: pkg.name, file: packed });
      console.log(
        `ok   ${pkg.name}: publint, attw (node10, node16 cjs/esm, bundler)${checkEngines(pkg)}${checkBudget(pkg, packed)}${checkTypesImportNoClient(packed)}${checkPrivateBundled(pkg, packed)}${checkReadmeApi(dir)}`,
      );
    } catch (err) {
      failed++;
      console.error(`FAIL ${pkg.name}\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
    }
  }
  if (failed === 0) {
    // Smoke test: install the tarballs (and their peers) into an empty project, as a user would.
    const app = join(out, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'smoke', private: true, type: 'module' }),
    );
    const peers = new Set(['prom-client@^15']);
    for (const { dir } of packages) {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      for (const [name, range] of Object.entries(pkg.peerDependencies ?? {})) {
        if (!pkg.peerDependenciesMeta?.[name]?.optional) peers.add(`${name}@${range}`);
      }
    }
    run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs.map((t) => t.file), ...peers],
      app,
    );
    for (const { name } of tarballs) {
      run(
        'node',
        [
          '--input-type=module',
          '-e',
          `const m = await import('${name}'); if (!Object.keys(m).length) throw new Error('no exports');`,
        ],
        app,
      );
      run(
        'node',
        ['-e', `const m = require('${name}'); if (!Object.keys(m).length) throw new Error('no exports');`],
        app,
      );
      console.log(`ok   ${name}: installs from its tarball, imports from ESM and CJS`);
    }
    run(
      'node',
      [
        '--input-type=module',
        '-e',
        `
      import { createMetrics } from '@deia/metrics';
      const m = createMetrics();
      m.http.requests.inc({ method: 'GET', route: '/x', status: 200 });
      const text = await m.registry.metrics();
      if (!text.includes('http_requests_total{method="GET",route="/x",status="200"} 1')) throw new Error(text);
    `,
      ],
      app,
    );
    console.log('ok   smoke: createMetrics from the packed tarball records and exposes a series');
    // The source maps carry no sources; each package ships src/ once: a stack trace through the
    // SDK must still read as its TypeScript, from the installed package.
    const trace = run(
      'node',
      [
        '--enable-source-maps',
        '-e',
        `try { require('@deia/metrics').createMetrics({ prefix: 'bad prefix' }); } catch (e) { console.log(e.stack); }`,
      ],
      app,
    );
    if (!/node_modules\/@deia\/metrics\/src\/[\w-]+\.ts:\d+/.test(trace))
      throw new Error(`a stack trace through @deia/metrics does not map to its src/*.ts:\n${trace}`);
    console.log('ok   smoke: a stack trace through the packed @deia/metrics maps to src/*.ts (source maps)');
    // The adapter-author entry, from ESM and CJS, against the root's handle (one shared chunk).
    const adapterCheck = `
      const o = createHttpObserver({ metrics: createMetrics(), metricsPath: false }, () => '/x');
      if (o.match('/x') !== PATH_RECORD || PATH_RECORD !== 'record') throw new Error('adapter entry');`;
    run(
      'node',
      [
        '--input-type=module',
        '-e',
        `import { createMetrics } from '@deia/metrics'; import { createHttpObserver, PATH_RECORD } from '@deia/metrics/adapter';${adapterCheck}`,
      ],
      app,
    );
    run(
      'node',
      [
        '-e',
        `const { createMetrics } = require('@deia/metrics'); const { createHttpObserver, PATH_RECORD } = require('@deia/metrics/adapter');${adapterCheck}`,
      ],
      app,
    );
    console.log('ok   smoke: @deia/metrics/adapter imports from ESM and CJS and drives a root handle');
    // The CLI as users run it: through the bin npm linked from the @deia/ops tarball.
    run(join(app, 'node_modules', '.bin', 'deia-observability'), ['generate', '--out', 'ops'], app);
    for (const f of ['prometheus/rules.yml', 'prometheus/prometheus.yml', 'alertmanager/alertmanager.yml']) {
      if (!existsSync(join(app, 'ops', f)))
        throw new Error(`deia-observability generate did not write ops/${f}`);
    }
    console.log('ok   smoke: the deia-observability bin from the tarball generates the ops files');
    // Every README code block, as a user pastes it, against the tarballs.
    failed += checkSnippets({
      root,
      app,
      env: {
        DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      },
    });
  }
} catch (err) {
  failed++;
  console.error(`FAIL smoke test\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
if (failed) {
  console.error(`check-publish: ${failed} failure(s)`);
  process.exit(1);
}
