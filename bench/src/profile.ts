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

/** Short owner of a frame: a workspace source file, an npm package, node internals, or V8. */
function owner(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const ws = /\/(packages|bench)\/([^/]+\/)?src\/(.+)$/.exec(url);
  if (ws && !url.includes('/node_modules/'))
    return ws[1] === 'bench' ? `bench/src/${ws[3]}` : `${ws[2]}src/${ws[3]}`;
  const pkg = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

const frameName = (n: ProfileNode) => {
  const where = owner(n.callFrame.url, n.callFrame.functionName);
  return `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
};

function top(map: Map<string, number>, total: number, perReq: number, limit: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(
      ([k, v]) =>
        `  ${((v / total) * 100).toFixed(1).padStart(5)}%  ${((v / total) * perReq).toFixed(2).padStart(6)} µs/req  ${k}`,
    );
}

/**
 * Where the server's CPU time went over the measured window: self time by owner (file or
 * package), inclusive time of the workspace's own functions, and the hottest functions. Times are
 * shares of the non-idle samples, converted to µs per request with the measured CPU per request.
 */
export function summarizeProfile(file: string, cpuPerReq: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfByOwner = new Map<string, number>();
  const selfByFn = new Map<string, number>();
  const inclusiveWs = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') return;
    total += dt;
    const o = owner(node.callFrame.url, node.callFrame.functionName);
    selfByOwner.set(o, (selfByOwner.get(o) ?? 0) + dt);
    const f = frameName(node);
    selfByFn.set(f, (selfByFn.get(f) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      const url = n.callFrame.url;
      if (/\/packages\/[^/]+\/src\//.test(url) && !url.includes('/node_modules/')) {
        const k = frameName(n);
        if (!seen.has(k)) {
          seen.add(k);
          inclusiveWs.set(k, (inclusiveWs.get(k) ?? 0) + dt);
        }
      }
    }
  });
  if (total === 0) return '  (empty profile)';
  return [
    `profile: ${file}`,
    'self time by owner:',
    ...top(selfByOwner, total, cpuPerReq, 15),
    'inclusive time of workspace package functions (packages/*/src):',
    ...top(inclusiveWs, total, cpuPerReq, 20),
    'hottest functions (self time):',
    ...top(selfByFn, total, cpuPerReq, 25),
  ].join('\n');
}
