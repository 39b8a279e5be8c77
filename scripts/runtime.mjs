// The Node.js runtimes the packages support, and Node's own binaries from the npm registry (the
// `node-<platform>-<arch>` packages, one per release) so CI does not depend on the machine's node.
// .ci/run runs the whole suite on the active LTS; the version matrix runs the packed packages on
// every other supported runtime, Node 22 at exactly the declared minimum (the `engines.node` every
// published package declares), so a dependency that needs more shows up as EBADENGINE there. Binaries are cached under .tmp/runtimes/ (git-ignored).
//
//   node scripts/runtime.mjs 24     installs (once) Node 24 and prints its bin directory
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const nodePkg = `node-${process.platform}-${process.arch}`;

const published = readdirSync(join(root, 'packages'))
  .map((dir) => JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')))
  .filter((pkg) => !pkg.private);
const declared = [...new Set(published.map((pkg) => pkg.engines?.node))];
/** The `engines.node` (`>=X.Y.Z`) every published package declares (throws unless one for all). */
export const ENGINES_NODE = declared[0];
if (declared.length !== 1)
  throw new Error(`the packages declare different engines.node (${declared.join(', ')}): one for all`);
/** The oldest Node the packages support, `X.Y.Z`. */
export const MIN_NODE = /^>=(\d+\.\d+\.\d+)$/.exec(ENGINES_NODE)?.[1];
if (!MIN_NODE) throw new Error(`engines.node ${ENGINES_NODE}: expected ">=X.Y.Z"`);
/** The active LTS: the runtime .ci/run runs the whole suite on. */
export const ACTIVE_LTS = 24;
/** Supported majors, oldest first, each with the release the matrix runs (npm version spec). */
export const SUPPORTED = [
  { major: Number(MIN_NODE.split('.')[0]), spec: MIN_NODE },
  { major: ACTIVE_LTS, spec: `^${ACTIVE_LTS}` },
];
export const SUPPORTED_MAJORS = SUPPORTED.map((r) => r.major);

/** The major of a `vX.Y.Z` version string. */
export const majorOf = (version) => Number(/^v?(\d+)\./.exec(version)?.[1]);

/**
 * Path of the Node binary to run for supported `major`: this process's own when it fits (any
 * release of the active LTS; exactly the minimum for the oldest major), else
 * `node-<platform>-<arch>@<spec>` from the registry, installed once under .tmp/runtimes/.
 * Throws for an unsupported major, when npm fails, or when the binary reports another version.
 */
export function nodeBinary(major) {
  const runtime = SUPPORTED.find((r) => r.major === major);
  if (!runtime) throw new Error(`Node ${major} is not supported (${SUPPORTED_MAJORS.join(', ')})`);
  const exact = !runtime.spec.startsWith('^');
  const fits = (version) => (exact ? version === `v${runtime.spec}` : majorOf(version) === major);
  if (fits(process.version)) return process.execPath;
  const dir = join(root, '.tmp', 'runtimes', `node-${exact ? runtime.spec : `${major}.x`}`);
  const bin = join(dir, 'node_modules', nodePkg, 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    execFileSync(
      'npm',
      ['install', `${nodePkg}@${runtime.spec}`, '--no-audit', '--no-fund', '--loglevel=error'],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 },
    );
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  if (!fits(version)) throw new Error(`${bin} is ${version}, expected Node ${runtime.spec}`);
  return bin;
}

if (process.argv[1] === import.meta.filename) {
  const major = Number(process.argv[2]);
  if (!SUPPORTED_MAJORS.includes(major)) {
    console.error(`usage: node scripts/runtime.mjs <${SUPPORTED_MAJORS.join('|')}>`);
    process.exit(2);
  }
  console.log(resolve(nodeBinary(major), '..'));
}
