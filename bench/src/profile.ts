import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const WORKSPACE = /\/(packages\/[^/]+|bench)\/src\/(.+)$/;

/** Short owner of a frame: a workspace source file, an npm package, node internals, or V8. */
function owner(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const ws = url.includes('/node_modules/') ? null : WORKSPACE.exec(url);
  if (ws) return `${ws[1]}/src/${ws[2]}`;
  const pkg = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

/** Frames charged to whoever called them: node's own JS, V8 natives, and the Prometheus client. */
const PASS_THROUGH = new Set(['node internals', '(native)', 'prom-client', '@prometheus-io/client']);

const frameName = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${owner(n.callFrame.url, n.callFrame.functionName)}:${n.callFrame.lineNumber + 1}`;

function top(map: Map<string, number>, total: number, perReq: number, limit: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(
      ([k, v]) =>
        `  ${((v / total) * 100).toFixed(1).padStart(5)}%  ${((v / total) * perReq).toFixed(2).padStart(6)} µs/req  ${k}`,
    );
}

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

/**
 * Where the server's CPU time went over the measured window. Shares are of the non-idle samples,
 * converted to µs per request with the measured CPU per request:
 * - by owner, charging node internals and prom-client to the first caller outside them (so
 *   `packages/metrics/src/http-track.ts` (the request fast path) includes the prom-client work and listener bookkeeping it causes);
 * - by workspace function (packages/*\/src), charged the same way;
 * - the hottest functions by self time.
 */
export function summarizeProfile(file: string, cpuPerReq: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const charged = new Map<string, number>();
  const chargedWs = new Map<string, number>();
  const selfByFn = new Map<string, number>();
  const promByCaller = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const leaf = byId.get(id);
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    if (!leaf || leaf.callFrame.functionName === '(idle)') return;
    total += dt;
    add(selfByFn, frameName(leaf), dt);
    let payer: ProfileNode | undefined;
    let throughProm = false;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      const o = owner(n.callFrame.url, n.callFrame.functionName);
      if (o === 'prom-client' || o === '@prometheus-io/client') throughProm = true;
      if (!PASS_THROUGH.has(o) && o !== '(root)') {
        payer = n;
        break;
      }
    }
    const payerOwner = payer
      ? owner(payer.callFrame.url, payer.callFrame.functionName)
      : 'node internals (no JS caller: socket I/O, HTTP parser, timers)';
    add(charged, payerOwner, dt);
    if (payer && (payerOwner.startsWith('packages/') || payerOwner.startsWith('bench/src/server/'))) {
      add(chargedWs, frameName(payer), dt);
    }
    if (throughProm) add(promByCaller, payer ? frameName(payer) : '(none)', dt);
  });
  if (total === 0) return '  (empty profile)';
  const ws = [...chargedWs.entries()]
    .filter(([k]) => k.includes(' packages/'))
    .reduce((a, [, b]) => a + b, 0);
  const prom = [...promByCaller.values()].reduce((a, b) => a + b, 0);
  return [
    `profile: ${file}`,
    `workspace packages (packages/*/src, with the prom-client and node work they call): ${((ws / total) * 100).toFixed(1)}% = ${((ws / total) * cpuPerReq).toFixed(2)} µs/req; prom-client alone ${((prom / total) * 100).toFixed(1)}% = ${((prom / total) * cpuPerReq).toFixed(2)} µs/req`,
    'by owner (node internals and prom-client charged to their caller):',
    ...top(charged, total, cpuPerReq, 15),
    'by function of the workspace packages and the bench servers (charged the same way):',
    ...top(chargedWs, total, cpuPerReq, 20),
    'prom-client time by caller:',
    ...top(promByCaller, total, cpuPerReq, 8),
    'hottest functions (self time):',
    ...top(selfByFn, total, cpuPerReq, 20),
  ].join('\n');
}
