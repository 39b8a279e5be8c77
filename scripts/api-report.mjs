// The API report of every published package: @microsoft/api-extractor reads each public entry's
// built declarations (dist/*.d.ts, so run `pnpm run build` first) and writes what it exports, with
// every signature, to packages/<pkg>/etc/<entry>.api.md. The reports are checked in: a change to a
// package's exported surface shows up in review as a diff of its report.
//
//   node scripts/api-report.mjs           check: fails when a surface differs from its report
//   node scripts/api-report.mjs --update  rewrites the reports (`pnpm run api:update`)
//
// `pnpm run check:publish` runs the check. An exported name or member (an interface's property or
// method, a class's field) with no doc comment fails it too: every one carries its contract (what it
// does, what it throws, its defaults), and api-extractor marks each one without it "(undocumented)".
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = resolve(import.meta.dirname, '..');
const UPDATE_COMMAND = 'pnpm run build && pnpm run api:update';

/** Every public entry with types of every published package: [package dir, entry name, .d.ts]. */
export function publicEntries() {
  const out = [];
  for (const dir of readdirSync(join(root, 'packages'))) {
    const pkgDir = join(root, 'packages', dir);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    if (pkg.private || !pkg.exports) continue;
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      const types = target?.import?.types;
      if (typeof types !== 'string') continue;
      const entry = subpath === '.' ? dir : `${dir}-${subpath.slice(2).replaceAll('/', '-')}`;
      out.push({ pkg: pkg.name, pkgDir, entry, dts: join(pkgDir, types) });
    }
  }
  return out;
}

function extractorConfig({ pkgDir, entry, dts }, tempFolder) {
  return ExtractorConfig.prepare({
    configObjectFullPath: undefined,
    packageJsonFullPath: join(pkgDir, 'package.json'),
    configObject: {
      projectFolder: pkgDir,
      mainEntryPointFilePath: dts,
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            strict: true,
            target: 'es2022',
            module: 'nodenext',
            moduleResolution: 'nodenext',
            types: ['node'],
            skipLibCheck: true,
          },
          files: [dts],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: `${entry}.api.md`,
        reportFolder: join(pkgDir, 'etc'),
        reportTempFolder: tempFolder,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: 'warning' } },
        extractorMessageReporting: {
          default: { logLevel: 'warning' },
          // no @public/@beta tags: the entry a name is exported from says what it is for
          'ae-missing-release-tag': { logLevel: 'none' },
          // a type reachable only through another (an options object's nested shape) is reported inline
          'ae-forgotten-export': { logLevel: 'none' },
          // checked below on the report itself: its "(undocumented)" markers, names and members alike
          'ae-undocumented': { logLevel: 'none' },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
      },
    },
  });
}

const DECLARED =
  /^export (?:declare )?(?:abstract )?(?:interface|class|type|enum|namespace|const|let|function) ([\w$]+)/;

/**
 * What each of api-extractor's "(undocumented)" markers in a report's text is above: an exported
 * name (`Foo`; its marker follows the release tag: `// @public (undocumented)`), or a member of one
 * (`Foo.bar`, `Foo.(call)` for a call signature; its marker stands alone: `// (undocumented)`).
 */
export function undocumentedIn(text) {
  const out = [];
  for (const m of text.matchAll(/^[ \t]*\/\/ (?:@\w+ )*\(undocumented\)\r?\n([ \t]*)([^\r\n]*)/gm)) {
    const [, indent, line] = m;
    if (indent === '') {
      out.push(DECLARED.exec(line)?.[1] ?? line);
      continue;
    }
    const ownerAt = text.lastIndexOf('\nexport ', m.index);
    const owner = DECLARED.exec(text.slice(ownerAt + 1, text.indexOf('\n', ownerAt + 1)))?.[1] ?? '?';
    const member = line
      .replace(/^(?:readonly |static |protected |abstract |get |set )+/, '')
      .split(/[(:<?;]/)[0];
    out.push(`${owner}.${member.trim() || '(call)'}`);
  }
  return out;
}

/** Runs the check (or the update); returns the number of failing entries, printing one line each. */
export function checkApiReports({ update = false } = {}) {
  const temp = mkdtempSync(join(tmpdir(), 'deia-api-'));
  let failed = 0;
  try {
    for (const e of publicEntries()) {
      mkdirSync(join(e.pkgDir, 'etc'), { recursive: true });
      const messages = [];
      const result = Extractor.invoke(extractorConfig(e, temp), {
        localBuild: update,
        messageCallback: (m) => {
          // console-*: the report-changed notice, reported below with the command to run
          const line = m.formatMessageWithoutLocation();
          if ((m.logLevel === 'warning' || m.logLevel === 'error') && !line.startsWith('(console-'))
            messages.push(line);
          m.handled = true;
        },
      });
      const report = join('packages', e.pkgDir.split('/').pop(), 'etc', `${e.entry}.api.md`);
      const text = readFileSync(join(root, report), 'utf8');
      const undocumented = undocumentedIn(text);
      const problems = [];
      if (result.apiReportChanged && !update)
        problems.push(
          `the exported surface differs from ${report}; review the change, then run: ${UPDATE_COMMAND}`,
        );
      if (undocumented.length)
        problems.push(
          `${undocumented.length} exported name(s) or member(s) without a contract comment, marked "(undocumented)" in ${report}: ${undocumented.slice(0, 5).join('; ')}${undocumented.length > 5 ? '; ...' : ''}`,
        );
      problems.push(...messages);
      if (problems.length) {
        failed++;
        console.error(`FAIL ${e.entry} API: ${problems.join('\n     ')}`);
      } else console.log(`ok   ${e.entry} API${update ? ` (wrote ${report})` : ''}`);
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return failed;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const failed = checkApiReports({ update: process.argv.includes('--update') });
  if (failed) process.exit(1);
}
