import type { CounterHandle } from './types.js';

/** The labelled counters of one object, created at 0 when the object becomes known. */
const BOT_COUNTERS = ['bot_start_errors_total', 'bot_restarts_total'] as const;
const QUEUE_COUNTERS = ['task_enqueued_total', 'task_completed_total', 'task_failed_total'] as const;

/** How many queue names are remembered as known (their counters are created once, not per call). */
const MAX_KNOWN = 1000;

/**
 * Creates labelled counters at 0 when the object they describe becomes known (a bot, a queue, an
 * auth failure reason). A series that first appears with a non-zero value has no increase in its
 * first window: `increase()` and `rate()` would miss the first event (a bot whose first start
 * fails before the first scrape). Counters of switched-off groups are no-ops.
 */
export function knownSeries(counter: (name: string) => CounterHandle) {
  const queues = new Set<string>();
  return {
    bot(botId: string): void {
      for (const name of BOT_COUNTERS) counter(name).inc({ bot_id: botId }, 0);
    },
    queue(queue: string): void {
      if (queues.has(queue)) return;
      if (queues.size < MAX_KNOWN) queues.add(queue);
      for (const name of QUEUE_COUNTERS) counter(name).inc({ queue }, 0);
    },
    /** Forgets a queue whose series were removed: its counters are created at 0 again when it returns. */
    forgetQueue(queue: string): void {
      queues.delete(queue);
    },
    authReasons(reasons: readonly string[]): void {
      for (const reason of reasons) counter('auth_failures_total').inc({ reason }, 0);
    },
  };
}
