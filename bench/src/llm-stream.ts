/**
 * What recording a streamed model call costs: an Ollama NDJSON body read through
 * `metrics.llm.wrapStream` against the same body read bare, and against a pass-through wrapper of
 * the same shape that records nothing (the floor: what any pull-based wrapper costs). Variants
 * run interleaved in the same process, rounds alternate their order; the ratios are medians of
 * per-round ratios. Also the cost per call of a non-streamed answer (`startCall` + `recordAnswer`).
 *
 *   pnpm --filter @deia/bench bench:llm [-- --quick]
 */
import { createMetrics } from '@deia/metrics';
import * as promClient from 'prom-client';

const quick = process.argv.includes('--quick');
const CHUNKS = 200; // tokens of one answer
const CALLS = quick ? 100 : 400; // streamed calls per variant and round
const ROUNDS = quick ? 5 : 11;
const ANSWERS = quick ? 20_000 : 100_000; // non-streamed answers per round

const enc = new TextEncoder();
const lines = Array.from({ length: CHUNKS }, (_, i) =>
  enc.encode(
    `${JSON.stringify({ model: 'llama3.2', created_at: '2026-12-07T08:00:00.000000Z', message: { role: 'assistant', content: `tok${i} ` }, done: false })}\n`,
  ),
);
const finalFields = {
  total_duration: 2_100_000_000,
  load_duration: 15_000_000,
  prompt_eval_count: 26,
  prompt_eval_duration: 120_000_000,
  eval_count: CHUNKS,
  eval_duration: 1_900_000_000,
};
lines.push(
  enc.encode(
    `${JSON.stringify({ model: 'llama3.2', created_at: '2026-12-07T08:00:02Z', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', ...finalFields })}\n`,
  ),
);

/** The model's body: one line per read, as Ollama's chunked answer arrives token by token. */
const source = () => {
  let i = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (i < lines.length) c.enqueue(lines[i++] as Uint8Array);
        else c.close();
      },
    },
    { highWaterMark: 0 },
  );
};

/** The floor: the same pull-based pass-through, recording nothing. */
const passThrough = (body: ReadableStream<Uint8Array>) => {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        const r = await reader.read();
        if (r.done) c.close();
        else c.enqueue(r.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
};

const drain = async (s: ReadableStream<Uint8Array>) => {
  const reader = s.getReader();
  let bytes = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) return bytes;
    bytes += r.value.byteLength;
  }
};

const metrics = createMetrics({
  registry: new promClient.Registry(),
  defaultMetrics: false,
  groups: ['llm'],
});
const attrs = { operation: 'chat', model: 'llama3.2' } as const;

const STREAM: Record<string, () => Promise<number>> = {
  bare: () => drain(source()),
  'floor (pass-through)': () => drain(passThrough(source())),
  'deia (wrapStream)': () => drain(metrics.llm.wrapStream(metrics.llm.startCall(attrs), source())),
};

const answer = { model: 'llama3.2', response: 'hi', done: true, ...finalFields };
const ANSWER: Record<string, () => void> = {
  'answer bare': () => {
    JSON.stringify(answer).length;
  },
  'answer deia (startCall + recordAnswer)': () => {
    JSON.stringify(answer).length;
    metrics.llm.recordAnswer(metrics.llm.startCall(attrs), answer);
  },
};

const ns: Record<string, number[]> = {};
const push = (k: string, v: number) => {
  const list = ns[k] ?? [];
  list.push(v);
  ns[k] = list;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

for (let round = 0; round < ROUNDS + 2; round++) {
  const order = round % 2 === 0 ? Object.entries(STREAM) : Object.entries(STREAM).reverse();
  const perChunk: Record<string, number> = {};
  for (const [name, run] of order) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) await run();
    perChunk[name] = Number(process.hrtime.bigint() - t) / (CALLS * lines.length);
  }
  const aOrder = round % 2 === 0 ? Object.entries(ANSWER) : Object.entries(ANSWER).reverse();
  const perAnswer: Record<string, number> = {};
  for (const [name, run] of aOrder) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < ANSWERS; i++) run();
    perAnswer[name] = Number(process.hrtime.bigint() - t) / ANSWERS;
  }
  if (round < 2) continue; // warm-up
  for (const [k, v] of Object.entries({ ...perChunk, ...perAnswer })) push(`${k} ns`, v);
  const bare = perChunk.bare as number;
  const floor = perChunk['floor (pass-through)'] as number;
  const deia = perChunk['deia (wrapStream)'] as number;
  push('deia / bare', deia / bare);
  push('deia / floor', deia / floor);
  push('floor / bare', floor / bare);
  push('deia - floor, ns per chunk', deia - floor);
  push(
    'answer: deia - bare, ns per call',
    (perAnswer['answer deia (startCall + recordAnswer)'] as number) - (perAnswer['answer bare'] as number),
  );
}

console.log(
  `${CALLS} streamed calls x ${lines.length} chunks per variant and round, ${ROUNDS} rounds (median):`,
);
for (const [k, xs] of Object.entries(ns)) {
  const v = median(xs);
  console.log(`${k.padEnd(48)} ${k.includes(' / ') ? v.toFixed(3) : Math.round(v)}`);
}
