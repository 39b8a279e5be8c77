/**
 * Child process: builds one server variant (argv[2]) on 127.0.0.1, port 0, and answers the runner
 * over IPC: `ready` with the port, then `cpu` (process.cpuUsage), `inspect` (metrics exposition)
 * and `stop` (exit).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { findSourceMap } from 'node:module';
import type { AbRunning, AbWindow } from './server/ab.js';
import type { Running } from './server/common.js';
import { type Framework, variantById } from './variants.js';

export type ToChild =
  | { type: 'cpu' }
  | { type: 'inspect' }
  | { type: 'stop' }
  | { type: 'ab-start'; windowMs: number }
  | { type: 'ab-stop' };
export type FromChild =
  | { type: 'ready'; port: number }
  | { type: 'cpu'; user: number; system: number }
  | { type: 'inspect'; text: string }
  | { type: 'ab-start' }
  | { type: 'ab-stop'; windows: AbWindow[] }
  | { type: 'error'; message: string };

const send = (msg: FromChild) => process.send?.(msg);

interface CallFrame {
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  callFrame: CallFrame;
}

/** tsx compiles TypeScript on the fly: map frames of workspace files back to their .ts lines. */
function toSourcePosition(frame: CallFrame): void {
  if (!frame.url.startsWith('file://') || frame.url.includes('/node_modules/') || frame.lineNumber < 0)
    return;
  const map = findSourceMap(frame.url);
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as
    | { originalLine?: number; originalColumn?: number }
    | undefined;
  if (entry?.originalLine === undefined) return;
  frame.lineNumber = entry.originalLine;
  frame.columnNumber = entry.originalColumn ?? 0;
}

/**
 * With BENCH_PROFILE=<file>, the V8 CPU profiler runs between the first and the second `cpu`
 * message, i.e. exactly over the measured window (no start-up, no warm-up), and writes <file>.
 */
function profiler(file: string | undefined): () => Promise<void> {
  if (!file) return async () => {};
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    );
  let calls = 0;
  return async () => {
    calls++;
    if (calls === 1) {
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 200 });
      await post('Profiler.start');
    } else if (calls === 2) {
      const { profile } = (await post('Profiler.stop')) as { profile: { nodes: ProfileNode[] } };
      for (const node of profile.nodes) toSourcePosition(node.callFrame);
      writeFileSync(file, JSON.stringify(profile));
    }
  };
}

async function main(): Promise<void> {
  const arg = process.argv[2] ?? '';
  // Imported lazily: the framework must not load before tracing is started (tracing variant).
  let running: Running;
  let ab: AbRunning | undefined;
  if (arg.startsWith('ab:')) {
    const { startAb } = await import('./server/ab.js');
    ab = await startAb(arg.slice(3) as Framework);
    running = ab;
  } else if (variantById(arg).framework === 'express') {
    const info = variantById(arg);
    const { startExpress } = await import('./server/express.js');
    running = await startExpress(info);
  } else {
    const { startFastify } = await import('./server/fastify.js');
    running = await startFastify(variantById(arg));
  }
  const toggleProfiler = profiler(process.env.BENCH_PROFILE);
  process.on('message', async (msg: ToChild) => {
    if (msg.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      // After the reading on stop (the write is not measured), before it on start.
      await toggleProfiler();
      send({ type: 'cpu', user, system });
    } else if (msg.type === 'inspect') {
      running.inspect().then(
        (text) => send({ type: 'inspect', text }),
        (err: Error) => send({ type: 'inspect', text: `# inspect failed: ${err.message}` }),
      );
    } else if (msg.type === 'ab-start') {
      ab?.start(msg.windowMs);
      send({ type: 'ab-start' });
    } else if (msg.type === 'ab-stop') {
      send({ type: 'ab-stop', windows: ab?.stop() ?? [] });
    } else if (msg.type === 'stop') {
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port: running.port });
}

main().catch((err: Error) => {
  send({ type: 'error', message: err.stack ?? err.message });
  setTimeout(() => process.exit(1), 50);
});
