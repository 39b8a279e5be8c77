/** Options of the traffic generator. */
export interface DemoOptions {
  /** Port of the controller on 127.0.0.1. @default Number(PORT ?? 8000) */
  port?: number;
  /** How long to run. @default 60 (DEMO_SECONDS) */
  seconds?: number;
  /** Requests per second, at most 50. @default 10 (DEMO_RPS) */
  rps?: number;
  /** Number of bots to start. @default 4 */
  bots?: number;
  log?: (line: string) => void;
}

const PROMPTS = [
  'What is the status of the nightly build?',
  'Summarise the last deployment.',
  'How many tasks are waiting?',
  'Say hello to the operations team.',
  'Which bot answered most messages today?',
];

function pickWeighted<T>(items: ReadonlyArray<[number, T]>, at: number): T {
  let r = at;
  for (const [weight, item] of items) {
    r -= weight;
    if (r < 0) return item;
  }
  return items[0]![1];
}

/**
 * A streamed chat (NDJSON): read to its last line, or left after the first chunk (a client that
 * goes away) now and then; counted in `counts` as chat:done, chat:error or chat:left.
 */
async function streamedChat(
  base: string,
  counts: Record<string, number>,
  id: string,
  leaveEarly: boolean,
): Promise<void> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 30_000);
  let outcome = 'chat:error';
  try {
    const res = await fetch(`${base}/api/bot/${id}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: PROMPTS[Math.floor(Math.random() * PROMPTS.length)] }),
      signal: ctl.signal,
    });
    counts[res.status] = (counts[res.status] ?? 0) + 1;
    if (!res.body || res.status !== 200) {
      await res.arrayBuffer();
      return;
    }
    let text = '';
    const decoder = new TextDecoder();
    for await (const part of res.body) {
      text += decoder.decode(part, { stream: true });
      if (leaveEarly && text.includes('"type":"chunk"')) {
        outcome = 'chat:left';
        ctl.abort();
        return;
      }
    }
    if (text.trimEnd().split('\n').at(-1)?.includes('"type":"done"')) outcome = 'chat:done';
  } catch {
    if (outcome !== 'chat:left') counts.error = (counts.error ?? 0) + 1;
  } finally {
    clearTimeout(timer);
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }
}

/**
 * A bounded traffic generator for the dashboards: starts a few bots, then sends messages (queued,
 * and streamed chats, a few of them left mid-answer) and reads (bots, cached bot status, tasks, chat history, health) plus the odd 404, for a fixed
 * time. It only ever talks to 127.0.0.1.
 */
export async function runDemo(options: DemoOptions = {}): Promise<Record<string, number>> {
  const port = options.port ?? Number(process.env.PORT ?? 8000);
  const seconds = Math.min(options.seconds ?? Number(process.env.DEMO_SECONDS ?? 60), 3_600);
  const rps = Math.max(1, Math.min(options.rps ?? Number(process.env.DEMO_RPS ?? 10), 50));
  const botCount = Math.max(1, Math.min(options.bots ?? 4, 10));
  const log = options.log ?? ((line: string) => console.log(line));
  if (!Number.isInteger(port) || port <= 0 || port > 65_535)
    throw new Error('PORT must be a TCP port number');
  const base = `http://127.0.0.1:${port}`;
  const counts: Record<string, number> = {};
  const call = async (method: string, path: string, body?: unknown) => {
    try {
      const res = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      await res.arrayBuffer();
      counts[res.status] = (counts[res.status] ?? 0) + 1;
      return res.status;
    } catch {
      counts.error = (counts.error ?? 0) + 1;
      return 0;
    }
  };

  const chat = (id: string, leaveEarly: boolean) => streamedChat(base, counts, id, leaveEarly);

  const bots = Array.from({ length: botCount }, (_, i) => `demo-${i + 1}`);
  log(`demo: ${rps} req/s for ${seconds} s against ${base} with bots ${bots.join(', ')}`);
  for (const id of bots) await call('POST', `/api/bot/${id}/start`);

  const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;
  const actions: Array<[number, () => Promise<unknown>]> = [
    [50, () => call('POST', `/api/bot/${pick(bots)}/message?wait=0`, { message: pick(PROMPTS) })],
    [10, () => call('POST', `/api/bot/${pick(bots)}/message`, { message: pick(PROMPTS) })],
    [15, () => chat(pick(bots), false)],
    // rare: cancelled calls count in error_type="cancelled", which the model error-rate alert reads
    [0.3, () => chat(pick(bots), true)],
    [10, () => call('GET', '/api/bots')],
    [10, () => call('GET', `/api/bot/${pick(bots)}`)],
    [6, () => call('GET', '/api/tasks')],
    [6, () => call('GET', `/api/bot/${pick(bots)}/messages`)],
    [4, () => call('GET', '/health')],
    [2, () => call('GET', '/api/no-such-route')],
    [2, () => call('POST', `/api/bot/${pick(bots)}/message`, { message: '' })],
  ];
  const total = actions.reduce((n, [w]) => n + w, 0);
  const deadline = Date.now() + seconds * 1000;
  const inFlight = new Set<Promise<unknown>>();
  let sent = 0;
  let lastReport = Date.now();
  while (Date.now() < deadline) {
    const action = pickWeighted(actions, Math.random() * total);
    if (inFlight.size < 100) {
      const p = action().finally(() => inFlight.delete(p));
      inFlight.add(p);
      sent++;
    }
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      log(`demo: ${sent} requests so far, by status ${JSON.stringify(counts)}`);
    }
    await new Promise((res) => setTimeout(res, 1000 / rps));
  }
  await Promise.allSettled(inFlight);
  log(`demo: done, ${sent} requests, by status ${JSON.stringify(counts)}`);
  return counts;
}
