// Starts a cluster fixture (test/fixtures/<name>: a primary that forks real workers and prints
// `{"port":N}` once it listens) and stops every started one after the file's tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) child.kill('SIGTERM');
});

/** Spawns `fixtures/<name>` under tsx and resolves with the port its primary listens on (15 s). */
export async function startClusterFixture(name: string): Promise<number> {
  const fixture = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cluster fixture did not start in 15 s')), 15_000);
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
  });
  return (JSON.parse(line) as { port: number }).port;
}
