// promtool, as every ops test runs it: in the test's own folder, with the files it needs written
// first, bounded in time, failing clearly when Prometheus' tools are not installed.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export interface PromtoolRun {
  /** promtool's exit status (0 = checks/tests passed). */
  status: number | null;
  /** stdout and stderr together. */
  out: string;
}

export function runPromtool(
  cwd: string,
  args: string[],
  options: { files?: Record<string, string>; timeoutMs?: number } = {},
): PromtoolRun {
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(cwd, name), content);
  const res = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: options.timeoutMs ?? 120_000 });
  expect(res.error, 'promtool is not installed (apt-get install prometheus)').toBeUndefined();
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}
