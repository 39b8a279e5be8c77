import { randomUUID } from 'node:crypto';
import type { Metrics } from '@deia/metrics';
import { withBotDispatchSpan, withTaskSpan } from '@deia/tracing';
import { type Context, context, ROOT_CONTEXT, SpanStatusCode } from '@opentelemetry/api';
import type { BotManager } from './bots.js';
import { BotCoreError } from './errors.js';
import type { AcceptOutcome, Store } from './store.js';
import type { LoggerLike, TaskStatus, TaskView } from './types.js';

const QUEUE = 'messages';
const KEEP_FINISHED = 200;

interface Task {
  id: string;
  botId: string;
  message: string;
  status: TaskStatus;
  reply: string | null;
  error: string | null;
  model: string | null;
  enqueuedAt: number;
  finishedAt: number | null;
  /** Trace context of the request that enqueued it: the processing span continues that trace. */
  ctx: Context;
  waiters: Array<() => void>;
}

/**
 * The task queue between the API and the bots. A message becomes a task; tasks are dispatched in
 * order, one at a time per bot and `concurrency` at a time overall, only while the database is
 * available and the queue is not paused. In degraded mode (database down) tasks stay queued and
 * drain when it returns, so nothing is lost.
 *
 * Accepted work is durable: `enqueue` writes the task to the `task_queue` table before the API
 * answers (while the database is down, to the fsynced journal the store replays), the exchange is
 * stored in the same statement that deletes the row, and `recover()` at start-up re-queues what a
 * stopped or killed process left. A task cut short by a crash runs again; its exchange is stored
 * once (unique per task).
 *
 * Metrics: `task_enqueued_total`, `task_queue_depth` (sampled at scrape), `task_queue_wait_seconds`,
 * `task_completed_total`/`task_failed_total`, `bot_dispatch_latency_seconds`, all with `queue="messages"`.
 */
export class TaskQueue {
  private readonly pending: Task[] = [];
  private readonly byId = new Map<string, Task>();
  private readonly finished: Task[] = [];
  private inFlight = 0;
  private paused = false;
  private closed = false;

  constructor(
    private readonly options: {
      metrics: Metrics;
      logger: LoggerLike;
      bots: BotManager;
      store: Store;
      concurrency: number;
    },
  ) {
    options.metrics.observeQueue(() => this.pending.length, QUEUE);
    options.store.onAvailabilityChange((up) => {
      if (up) {
        if (this.pending.length) {
          options.logger.info(
            { backlog: this.pending.length },
            'database is back: draining the task backlog',
          );
        }
        this.pump();
      }
    });
    options.bots.onChange((bot) => {
      if (bot.status === 'running') this.pump();
      if (bot.status === 'stopped')
        this.failQueued(bot.id, 'the bot was stopped before it handled the message');
    });
  }

  /** Tasks waiting to be dispatched. */
  get depth(): number {
    return this.pending.length;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get running(): number {
    return this.inFlight;
  }

  /** Fault injection / deployment freeze: tasks stay queued until `resume()`. */
  pause(): void {
    if (!this.paused) this.options.logger.warn({}, 'task queue paused');
    this.paused = true;
  }

  resume(): void {
    if (this.paused) this.options.logger.info({ backlog: this.pending.length }, 'task queue resumed');
    this.paused = false;
    this.pump();
  }

  view(t: Task): TaskView {
    return {
      id: t.id,
      botId: t.botId,
      status: t.status,
      message: t.message,
      reply: t.reply,
      error: t.error,
      model: t.model,
      enqueuedAt: new Date(t.enqueuedAt).toISOString(),
      finishedAt: t.finishedAt === null ? null : new Date(t.finishedAt).toISOString(),
    };
  }

  get(id: string): TaskView | undefined {
    const t = this.byId.get(id);
    return t && this.view(t);
  }

  /** Queued and running tasks first (oldest first), then the most recent finished ones. */
  list(limit = 100): TaskView[] {
    const open = [...this.byId.values()].filter((t) => t.status === 'queued' || t.status === 'running');
    return [...open, ...[...this.finished].reverse()].slice(0, limit).map((t) => this.view(t));
  }

  /**
   * Adds a message for a bot. The bot must be running (or restarting after a crash). Resolves once
   * the task is durable: in the database, or (while it is unreachable) in the journal; `durable`
   * says which. `id` (a uuid) makes a retry idempotent: a task already accepted with it is
   * returned as it is, never stored twice. Throws a 503 `BotCoreError` when the task could not be
   * made durable (database down and no room in the journal): nothing was accepted.
   */
  async enqueue(
    botId: string,
    message: string,
    id: string = randomUUID(),
  ): Promise<TaskView & { durable: AcceptOutcome }> {
    if (this.closed) throw new BotCoreError('SHUTTING_DOWN', 'the service is shutting down', 503);
    const known = this.byId.get(id);
    if (known) return { ...this.view(known), durable: 'duplicate' };
    if (!this.options.bots.isActive(botId)) {
      throw new BotCoreError('BOT_NOT_RUNNING', `bot ${botId} is not running; start it first`, 409);
    }
    const task = this.newTask(id, botId, message, Date.now(), context.active());
    const durable = await this.options.store.acceptTask({
      id: task.id,
      botId,
      message,
      enqueuedAt: new Date(task.enqueuedAt),
    });
    // A concurrent retry with the same id may have been added meanwhile.
    const raced = this.byId.get(id);
    if (raced) return { ...this.view(raced), durable: 'duplicate' };
    // 'duplicate' but unknown here: an earlier attempt committed after its answer timed out. It is
    // accepted work all the same; run it (its exchange is stored once).
    this.add(task);
    return { ...this.view(task), durable };
  }

  /**
   * Re-queues tasks a previous process accepted and did not finish (read from the database at
   * start-up); ids already known are skipped. Returns how many were added.
   */
  recover(rows: ReadonlyArray<{ id: string; bot_id: string; message: string; enqueued_at: Date }>): number {
    let added = 0;
    for (const r of rows) {
      const known = this.byId.get(r.id);
      if (known) {
        // A journal replay can re-insert the row of a task this process has just finished (its
        // exchange committed between the replay's check and its insert): remove it, or it would
        // wait in task_queue until the next start.
        if (known.status === 'completed' || known.status === 'failed') this.forget(known);
        continue;
      }
      this.add(this.newTask(r.id, r.bot_id, r.message, new Date(r.enqueued_at).getTime(), ROOT_CONTEXT));
      added++;
    }
    if (added) this.options.logger.info({ recovered: added }, 'task queue: re-queued accepted messages');
    return added;
  }

  private newTask(id: string, botId: string, message: string, enqueuedAt: number, ctx: Context): Task {
    return {
      id,
      botId,
      message,
      status: 'queued',
      reply: null,
      error: null,
      model: null,
      enqueuedAt,
      finishedAt: null,
      ctx,
      waiters: [],
    };
  }

  private add(task: Task) {
    this.pending.push(task);
    this.byId.set(task.id, task);
    this.options.metrics.tasks.enqueued(QUEUE);
    queueMicrotask(() => this.pump());
  }

  /** Resolves with the task once it finished, or as it is after `timeoutMs`. */
  async waitFor(id: string, timeoutMs: number): Promise<TaskView | undefined> {
    const t = this.byId.get(id);
    if (!t) return undefined;
    if (t.status === 'completed' || t.status === 'failed' || timeoutMs <= 0) return this.view(t);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      t.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.view(t);
  }

  /** Dispatches what can run now. Cheap; called on every event that may unblock a task. */
  pump(): void {
    const { bots, store, concurrency } = this.options;
    if (this.closed || this.paused || !store.isAvailable) return;
    for (let i = 0; i < this.pending.length && this.inFlight < concurrency; ) {
      const task = this.pending[i]!;
      if (!bots.isActive(task.botId)) {
        this.pending.splice(i, 1);
        this.failWithoutRunning(task, 'the bot is not running');
        continue;
      }
      if (!bots.tryAcquire(task.botId)) {
        i++;
        continue;
      }
      this.pending.splice(i, 1);
      this.inFlight++;
      void this.run(task);
    }
  }

  private async run(task: Task): Promise<void> {
    const { metrics, bots, store, logger } = this.options;
    task.status = 'running';
    metrics.bots.recordDispatchLatency((Date.now() - task.enqueuedAt) / 1000);
    // The processing span continues the trace of the request that enqueued the message.
    await context.with(task.ctx, () =>
      withTaskSpan(
        QUEUE,
        (span) =>
          withBotDispatchSpan(task.botId, async () => {
            try {
              const completion = await metrics.tasks.trackTask(
                task.enqueuedAt,
                () => bots.handleMessage(task.botId, task.message),
                QUEUE,
              );
              // Never throws for an outage: if the database just went away the write waits in the outbox.
              await store.saveExchange({
                botId: task.botId,
                taskId: task.id,
                message: task.message,
                reply: completion.text,
                model: completion.model,
                at: new Date(task.enqueuedAt),
                repliedAt: new Date(),
              });
              task.model = completion.model;
              this.finish(task, 'completed', completion.text, null);
            } catch (err) {
              const message = err instanceof BotCoreError ? err.message : 'the bot failed to answer';
              logger.warn(
                { bot_id: task.botId, task_id: task.id, err: { message: (err as Error).message } },
                'task failed',
              );
              span.recordException(err as Error);
              span.setStatus({ code: SpanStatusCode.ERROR, message });
              // a closing queue leaves the task in the database: the next start runs it again
              if (!this.closed) this.forget(task);
              this.finish(task, 'failed', null, message);
            }
          }),
        { taskId: task.id },
      ),
    );
    bots.release(task.botId);
    this.inFlight--;
    this.pump();
  }

  private finish(task: Task, status: 'completed' | 'failed', reply: string | null, error: string | null) {
    task.status = status;
    task.reply = reply;
    task.error = error;
    task.finishedAt = Date.now();
    this.finished.push(task);
    if (this.finished.length > KEEP_FINISHED) {
      const old = this.finished.shift()!;
      this.byId.delete(old.id);
    }
    for (const w of task.waiters.splice(0)) w();
  }

  private failQueued(botId: string, reason: string) {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const t = this.pending[i]!;
      if (t.botId !== botId) continue;
      this.pending.splice(i, 1);
      this.failWithoutRunning(t, reason);
    }
  }

  /** Counted as failed (with its wait time) so enqueued = completed + failed + depth. */
  private failWithoutRunning(task: Task, reason: string) {
    void this.options.metrics.tasks
      .trackTask(
        task.enqueuedAt,
        () => {
          throw new Error(reason);
        },
        QUEUE,
      )
      .catch(() => {});
    this.forget(task);
    this.finish(task, 'failed', null, reason);
  }

  /** The task ended without an exchange: it leaves the persistent queue. */
  private forget(task: Task) {
    this.options.store
      .forgetTask(task.id)
      .catch((err: Error) =>
        this.options.logger.error(
          { task_id: task.id, err: { message: err.message } },
          'forgetting a task failed',
        ),
      );
  }

  /**
   * Stops dispatching; waits (bounded) for running tasks. Queued tasks stay in the database (or the
   * journal, replayed at the next start) and run at the next start.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.pending.length || this.inFlight) {
      this.options.logger.info(
        { queued: this.pending.length, running: this.inFlight },
        'task queue closed: unfinished tasks stay in the database for the next start',
      );
    }
  }
}
