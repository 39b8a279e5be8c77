// Every code block of every published package's README, the root README and docs/*.md, checked from
// the packed tarballs in the project check-publish.mjs installed them into: TypeScript blocks through
// `tsc --strict` (node16 resolution, and the Express/Fastify quick starts under node10 too, both with
// skipLibCheck off), JavaScript blocks run with node (a block that throws, exits non-zero or is still
// running after its timeout fails, unless marked as a server). The project gets what the blocks
// import (plus typescript and @types/node, which every TypeScript Node project has) and the
// `@types/` packages their install lines name: each package README's quick start (its first block,
// with continuations) may import only what its own install lines name, and the `@types/` package of
// every import that ships no types of its own
// (scripts/matrix.mjs installs those lines as written, on the other supported runtimes).
//
// Markers, on the line before a block:
//   <!-- snippet: continues -->  the block goes on from the previous one in the same file
//                                 (checked as one file: the quick start, then what it adds);
//   <!-- snippet: server -->     a JavaScript block that serves until stopped: it passes when it is
//                                 still running after its timeout (and is stopped then), fails when it
//                                 exits before;
//   <!-- snippet: fragment -->   not checked (a shape, not code to paste); keep these rare.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// a block's own work is done well within this on a loaded machine; a server is stopped after it
const JS_TIMEOUT_MS = 15_000;
const LANGS = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js', mjs: 'js' };

/** The checkable blocks of one README, continuations merged. */
export function extractSnippets(markdown, name) {
  const lines = markdown.split('\n');
  const units = [];
  let fragments = 0;
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`${name}: unclosed code block at line ${i + 1}`);
    const lang = LANGS[open[1]];
    let j = i - 1;
    while (j >= 0 && lines[j].trim() === '') j--;
    const marker = /^<!-- snippet: (\w+) -->$/.exec(lines[j]?.trim() ?? '')?.[1];
    const code = lines.slice(i + 1, end).join('\n');
    const at = i + 1;
    i = end;
    if (!lang) continue;
    if (marker === 'fragment') {
      fragments++;
      continue;
    }
    if (marker === 'continues') {
      const prev = units.findLast((u) => u.lang === lang);
      if (!prev || prev.lang !== lang)
        throw new Error(`${name}:${at}: "continues" needs a ${lang} block before it`);
      prev.code += `\n// --- ${name}:${at}\n${code}`;
      prev.lines.push(at);
      continue;
    }
    if (marker === 'server' && lang !== 'js')
      throw new Error(`${name}:${at}: "server" marks JavaScript blocks (TypeScript is compiled only)`);
    if (marker !== undefined && marker !== 'server')
      throw new Error(`${name}:${at}: unknown snippet marker "${marker}"`);
    units.push({ lang, code, lines: [at], server: marker === 'server' });
  }
  return { units, fragments };
}

/**
 * The packages the `npm install` lines of a markdown file's sh blocks name (flags and `# comments`
 * dropped, version ranges kept), e.g. `npm install -D @types/pg` gives `@types/pg`.
 */
export function installLines(markdown) {
  const names = [];
  let inSh = false;
  for (const line of markdown.split('\n')) {
    if (/^```/.test(line)) {
      inSh = !inSh && /^```(sh|bash|shell)\s*$/.test(line);
      continue;
    }
    const m = inSh && /^\s*npm (?:install|i|add)\s+(.*)$/.exec(line.replace(/\s+#.*$/, ''));
    if (m) names.push(...m[1].split(/\s+/).filter((w) => w && !w.startsWith('-')));
  }
  return names;
}
const bare = (spec) => spec.replace(/(?<=.)@.*$/, '');

const importsOf = (code, { deia = false } = {}) =>
  [
    ...code.matchAll(
      /from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ]
    .map((m) => m[1] ?? m[2] ?? m[3])
    .filter((s) => !s.startsWith('node:') && !s.startsWith('.') && (deia || !s.startsWith('@deia/')))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]))
    .filter((s, i, a) => a.indexOf(s) === i);

/** `@types/` name of a package: `@scope/name` becomes `@types/scope__name`. */
const typesName = (name) => `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`;

/** Does the installed package `name` (in `app`) ship its own type declarations? */
function shipsTypes(app, name) {
  const dir = join(app, 'node_modules', ...name.split('/'));
  if (!existsSync(join(dir, 'package.json'))) return false;
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return Boolean(
    pkg.types ||
      pkg.typings ||
      JSON.stringify(pkg.exports ?? {}).includes('"types"') ||
      existsSync(join(dir, 'index.d.ts')),
  );
}

/** Markdown files whose blocks are checked: [path relative to root, its install lines or null]. */
function sources(root) {
  const files = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
    if (!manifest.private)
      files.push({
        name: `packages/${pkg}/README.md`,
        pkg,
        node10: ['express', 'fastify'].includes(pkg),
      });
  }
  files.push({ name: 'README.md', pkg: 'root' });
  for (const f of readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort())
    files.push({ name: `docs/${f}`, pkg: `docs-${f.replace(/\.md$/, '')}` });
  return files.map((f) => {
    const markdown = readFileSync(join(root, f.name), 'utf8');
    return {
      ...f,
      markdown,
      install: f.pkg.startsWith('docs') || f.pkg === 'root' ? null : installLines(markdown),
    };
  });
}

/** Runs tsc on `units` in `dir` with `compilerOptions`; returns the number of failing units. */
function compile(app, dir, config, compilerOptions, units, what) {
  writeFileSync(join(dir, config), JSON.stringify({ compilerOptions, include: units.map((u) => u.file) }));
  const tsc = spawnSync(join(app, 'node_modules', '.bin', 'tsc'), ['-p', config], {
    cwd: dir,
    encoding: 'utf8',
  });
  const errors = `${tsc.stdout}${tsc.stderr}`;
  let failed = 0;
  for (const u of units) {
    const mine = errors.split('\n').filter((l) => l.startsWith(u.file));
    if (mine.length > 0) {
      failed++;
      console.error(`FAIL ${u.readme} block at line ${u.lines.join(', ')} (${what}):\n${mine.join('\n')}`);
    }
  }
  if (tsc.status !== 0 && failed === 0) {
    failed++;
    console.error(`FAIL tsc (${what}) on the snippets:\n${errors}`);
  }
  return failed;
}

/** Every checkable block of the checked markdown files, each with the file name it is written to. */
function collect(root) {
  const all = [];
  for (const f of sources(root)) {
    const { units, fragments } = extractSnippets(f.markdown, f.name);
    for (const [n, u] of units.entries()) {
      const ext = u.lang === 'ts' ? 'ts' : /\brequire\(/.test(u.code) ? 'cjs' : 'mjs';
      all.push({
        ...u,
        readme: f.name,
        source: f,
        // a package README's first block (with its continuations) is its quick start
        quickStart: f.install !== null && n === 0,
        node10: f.node10 && n === 0,
        file: `${f.pkg}-${n + 1}.${ext}`,
      });
    }
    if (units.length || fragments)
      console.log(`     ${f.name}: ${units.length} snippet(s) to check, ${fragments} marked fragment`);
  }
  return all;
}

/**
 * Installs into `app` what the blocks import, then the @types/ package of each TypeScript import
 * that ships no types (a quick start whose install lines do not name them fails checkInstallLines).
 */
function installImports(app, all) {
  const install = (specs) => {
    const installed = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).dependencies ?? {};
    const missing = [...specs].filter((d) => !installed[bare(d)]);
    if (missing.length > 0)
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...missing], {
        cwd: app,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
  };
  install(new Set(['typescript@~5.9', '@types/node@^22', ...all.flatMap((u) => importsOf(u.code))]));
  const ts = all.filter((u) => u.lang === 'ts');
  install(
    new Set(
      ts.flatMap((u) =>
        importsOf(u.code)
          .filter((d) => !shipsTypes(app, d))
          .map(typesName),
      ),
    ),
  );
}

/** A package README's quick start needs only what its own install lines name; returns failures. */
function checkInstallLines(app, all) {
  let failed = 0;
  for (const u of all.filter((x) => x.quickStart)) {
    const named = new Set(u.source.install.map(bare));
    const imports = importsOf(u.code, { deia: true });
    const lacking = imports.filter((d) => !named.has(d));
    if (u.lang === 'ts')
      lacking.push(...imports.filter((d) => !shipsTypes(app, d) && !named.has(typesName(d))).map(typesName));
    if (lacking.length > 0) {
      failed++;
      console.error(
        `FAIL ${u.readme} block at line ${u.lines.join(', ')}: needs ${[...new Set(lacking)].join(', ')}, which its install lines do not name`,
      );
    }
  }
  return failed;
}

/** tsc on the TypeScript blocks (nodenext; the quick starts under node10 too); returns failures. */
function compileAll(app, dir, ts) {
  const strict = { strict: true, noEmit: true, target: 'es2022', types: ['node'], skipLibCheck: false };
  let failed = compile(
    app,
    dir,
    'tsconfig.json',
    { ...strict, module: 'nodenext', moduleResolution: 'nodenext' },
    ts,
    'tsc --strict',
  );
  // node10 ignores `exports`: it reads `types` and `typesVersions`, whatever `module` is (es2022
  // here only for the quick starts' top-level await)
  const quick = ts.filter((u) => u.node10);
  failed += compile(
    app,
    dir,
    'tsconfig.node10.json',
    { ...strict, module: 'es2022', moduleResolution: 'node10', esModuleInterop: true },
    quick,
    'tsc --strict, moduleResolution node10',
  );
  if (quick.length !== 2) {
    failed++;
    console.error(`FAIL snippets: expected the Express and Fastify quick starts, found ${quick.length}`);
  }
  return failed;
}

/** Runs each JavaScript block with node; see the header for what passes. Returns failures. */
function runAll(dir, js, env) {
  let failed = 0;
  for (const u of js) {
    const r = spawnSync(process.execPath, [u.file], {
      cwd: dir,
      encoding: 'utf8',
      timeout: JS_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      env: { ...process.env, ...env },
    });
    const problem =
      r.error?.code === 'ETIMEDOUT'
        ? u.server
          ? null
          : `still running after ${JS_TIMEOUT_MS / 1000} s (mark a block that serves until stopped <!-- snippet: server -->)`
        : r.status !== 0
          ? `exited with ${r.status ?? r.signal}`
          : u.server
            ? `marked server, but exited after its work (no longer serving)`
            : null;
    if (problem) {
      failed++;
      console.error(
        `FAIL ${u.readme} block at line ${u.lines.join(', ')} (node): ${problem}\n${r.stderr.slice(0, 2000)}`,
      );
    }
  }
  return failed;
}

/**
 * `app`: a project with the tarballs installed. `env`: what JS blocks run with (local services).
 * Returns the number of failing blocks; prints one line per README.
 */
export function checkSnippets({ root, app, env = {} }) {
  const dir = join(app, 'snippets');
  mkdirSync(dir, { recursive: true });
  const all = collect(root);
  installImports(app, all);
  let failed = checkInstallLines(app, all);
  for (const u of all)
    writeFileSync(join(dir, u.file), `${u.code}\n${u.lang === 'ts' ? 'export {};\n' : ''}`);
  const ts = all.filter((u) => u.lang === 'ts');
  if (ts.length > 0) failed += compileAll(app, dir, ts);
  failed += runAll(
    dir,
    all.filter((u) => u.lang === 'js'),
    env,
  );
  if (failed === 0)
    console.log(
      `ok   snippets: ${all.length} checked (${ts.length} with tsc --strict, the 2 quick starts under node10 too, ${all.length - ts.length} run with node); install lines name every import`,
    );
  return failed;
}

// `node scripts/check-snippets.mjs APP_DIR`: checks against a project that already has the
// tarballs installed (check-publish.mjs calls checkSnippets itself).
if (import.meta.filename === process.argv[1] && process.argv[2]) {
  const { resolve } = await import('node:path');
  process.exitCode = checkSnippets({
    root: resolve(import.meta.dirname, '..'),
    app: resolve(process.argv[2]),
  })
    ? 1
    : 0;
}
