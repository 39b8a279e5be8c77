// Every code block of every published package's README, checked from the packed tarballs in the
// project check-publish.mjs installed them into: TypeScript blocks through `tsc --strict`, JavaScript
// blocks run with node (a block that throws or exits non-zero fails; one still serving after a few
// seconds passes and is stopped).
//
// Markers, on the line before a block:
//   <!-- snippet: continues -->  the block goes on from the previous one in the same README
//                                 (checked as one file: the quick start, then what it adds);
//   <!-- snippet: fragment -->   not checked (a shape, not code to paste); keep these rare.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
    if (marker !== undefined) throw new Error(`${name}:${at}: unknown snippet marker "${marker}"`);
    units.push({ lang, code, lines: [at] });
  }
  return { units, fragments };
}

const importsOf = (code) =>
  [
    ...code.matchAll(
      /from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g,
    ),
  ]
    .map((m) => m[1] ?? m[2] ?? m[3])
    .filter((s) => !s.startsWith('node:') && !s.startsWith('.') && !s.startsWith('@deia/'))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]));

const TYPES = { express: '@types/express', pg: '@types/pg' };

/**
 * `app`: a project with the tarballs installed. `env`: what JS blocks run with (local services).
 * Returns the number of failing blocks; prints one line per README.
 */
export function checkSnippets({ root, app, env = {} }) {
  const dir = join(app, 'snippets');
  mkdirSync(dir, { recursive: true });
  const all = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const manifest = JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8'));
    if (manifest.private) continue;
    const name = `packages/${pkg}/README.md`;
    const { units, fragments } = extractSnippets(readFileSync(join(root, name), 'utf8'), name);
    for (const [n, u] of units.entries()) {
      const ext = u.lang === 'ts' ? 'ts' : /\brequire\(/.test(u.code) ? 'cjs' : 'mjs';
      all.push({ ...u, readme: name, file: `${pkg}-${n + 1}.${ext}` });
    }
    console.log(`     ${name}: ${units.length} snippet(s) to check, ${fragments} marked fragment`);
  }
  const deps = new Set(['typescript@~5.9', '@types/node@^20']);
  for (const u of all) {
    for (const d of importsOf(u.code)) {
      deps.add(d);
      if (TYPES[d] && u.lang === 'ts') deps.add(TYPES[d]);
    }
  }
  const installed = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).dependencies ?? {};
  const missing = [...deps].filter((d) => !installed[d.replace(/(?<=.)@.*$/, '')]);
  if (missing.length > 0) {
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...missing], {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
  let failed = 0;
  const ts = all.filter((u) => u.lang === 'ts');
  for (const u of all)
    writeFileSync(join(dir, u.file), `${u.code}\n${u.lang === 'ts' ? 'export {};\n' : ''}`);
  if (ts.length > 0) {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          types: ['node'],
          skipLibCheck: true,
        },
        include: ts.map((u) => u.file),
      }),
    );
    const tsc = spawnSync(join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], {
      cwd: dir,
      encoding: 'utf8',
    });
    const errors = `${tsc.stdout}${tsc.stderr}`;
    for (const u of ts) {
      const mine = errors.split('\n').filter((l) => l.startsWith(u.file));
      if (mine.length > 0) {
        failed++;
        console.error(
          `FAIL ${u.readme} block at line ${u.lines.join(', ')} (tsc --strict):\n${mine.join('\n')}`,
        );
      }
    }
    if (tsc.status !== 0 && failed === 0) {
      failed++;
      console.error(`FAIL tsc on the README snippets:\n${errors}`);
    }
  }
  for (const u of all.filter((x) => x.lang === 'js')) {
    const r = spawnSync(process.execPath, [u.file], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 5000,
      env: { ...process.env, ...env },
    });
    if (r.signal === null && r.status !== 0) {
      failed++;
      console.error(
        `FAIL ${u.readme} block at line ${u.lines.join(', ')} (node):\n${r.stderr.slice(0, 2000)}`,
      );
    }
  }
  if (failed === 0)
    console.log(
      `ok   README snippets: ${all.length} checked (${ts.length} with tsc --strict, ${all.length - ts.length} run with node)`,
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
