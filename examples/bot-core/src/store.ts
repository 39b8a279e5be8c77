import type { Metrics } from '@deia/metrics';
import pg from 'pg';
import { DatabaseUnavailableError } from './errors.js';
import { ident, migrate } from './migrations.js';
import type { LoggerLike } from './types.js';

/** A write that is retried, in order, once the database is back. */
interface PendingWrite {
  operation: string;
  sql: string;
  params: unknown[];
}

/** A stored chat message. */
export interface ChatMessageRow {
  id: string;
  bot_id: string;
  task_id: string | null;
  role: 'user' | 'assistant';
  content: string;
  model: string | null;
  created_at: Date;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/** True when an error means "cannot reach the database" rather than "bad query". */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] } | undefined;
  if (!e) return false;
  if (Array.isArray(e.errors) && e.errors.some(isConnectionError)) return true; // AggregateError (IPv4+IPv6)
  const code = typeof e.code === 'string' ? e.code : '';
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P')) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|server closed the connection/i.test(
    msg,
  );
}

/**
 * The PostgreSQL side of the controller. It owns the availability state behind degraded mode:
 * a heartbeat notices an outage within `heartbeatMs`, probes with exponential backoff reconnect,
 * writes made while the database is down wait in an in-memory outbox and are replayed in order
 * once it is back, and `onAvailable` listeners (the task queue) are told to drain their backlog.
 */
export class Store {
  readonly pool: pg.Pool;
  private readonly s: string;
  private available = false;
  private migrated = false;
  private outbox: PendingWrite[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probeDelay: number;
  private closed = false;
  private readonly listeners = new Set<(available: boolean) => void>();
  private lastError: string | undefined;

  constructor(
    private readonly options: {
      connectionString: string;
      schema: string;
      poolMax: number;
      metrics: Metrics;
      logger: LoggerLike;
      heartbeatMs: number;
      probe: { initialMs: number; maxMs: number };
      /** Most writes kept while the database is down; older ones are dropped (and logged). @default 100000 */
      maxOutbox?: number;
    },
  ) {
    this.s = ident(options.schema);
    this.probeDelay = options.probe.initialMs;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolMax,
      connectionTimeoutMillis: 2_000,
      idleTimeoutMillis: 30_000,
      application_name: 'deia-example-controller',
    });
    // pg-pool re-emits an idle client's error here; the per-client listener below already handled
    // it, but without a listener on the pool too the re-emit would crash the process.
    this.pool.on('error', () => undefined);
    // pg-pool removes its idle 'error' listener while a client is checked out (by migrate(), by
    // postgresCheck(pool), by anyone given this pool): a connection lost then would emit 'error'
    // with no listener and crash the process. This one stays for the client's whole life; the
    // query that was running rejects as well and is handled (degraded mode) where it was awaited.
    this.pool.on('connect', (client) => {
      client.on('error', (err) => {
        if (isConnectionError(err)) this.markDown(err);
        else options.logger.warn({ err: { message: err.message } }, 'database client error');
      });
    });
    options.metrics.observePgPool(this.pool);
  }

  /** True while the database answers. False means degraded mode. */
  get isAvailable(): boolean {
    return this.available;
  }

  /** Writes waiting for the database. */
  get pendingWrites(): number {
    return this.outbox.length;
  }

  /** Why the database was last marked down (no connection details). */
  get lastErrorMessage(): string | undefined {
    return this.lastError;
  }

  onAvailabilityChange(listener: (available: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** First connection attempt and migrations; never throws: when the database is down it starts degraded. */
  async start(): Promise<void> {
    await this.check();
  }

  /** Runs a read; throws `DatabaseUnavailableError` in degraded mode. */
  async query<R extends pg.QueryResultRow>(
    operation: string,
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> {
    if (!this.available) throw new DatabaseUnavailableError();
    try {
      const res = await this.options.metrics.db.trackQuery(operation, () => this.pool.query<R>(sql, params));
      return res.rows;
    } catch (err) {
      if (isConnectionError(err)) {
        this.markDown(err);
        throw new DatabaseUnavailableError();
      }
      throw err;
    }
  }

  /** Runs a write now, or keeps it for when the database is back. Never throws for an outage. */
  async write(operation: string, sql: string, params: unknown[]): Promise<'written' | 'queued'> {
    if (!this.available || this.outbox.length > 0) {
      this.enqueueWrite({ operation, sql, params });
      return 'queued';
    }
    try {
      await this.options.metrics.db.trackQuery(operation, () => this.pool.query(sql, params));
      return 'written';
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      this.markDown(err);
      this.enqueueWrite({ operation, sql, params });
      return 'queued';
    }
  }

  // --- domain writes and reads -----------------------------------------------------------------

  saveBot(bot: { id: string; status: string; model: string; restarts: number; lastError: string | null }) {
    return this.write(
      'upsert_bot',
      `INSERT INTO ${this.s}.bots (id, status, model, restarts, last_error, updated_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, model = EXCLUDED.model,
         restarts = EXCLUDED.restarts, last_error = EXCLUDED.last_error, updated_at = now()`,
      [bot.id, bot.status, bot.model, bot.restarts, bot.lastError],
    );
  }

  saveExchange(x: {
    botId: string;
    taskId: string;
    message: string;
    reply: string;
    model: string;
    at: Date;
    repliedAt: Date;
  }) {
    // One statement: the exchange is stored and the task leaves the persistent queue together;
    // run again (a replay, or a task re-run after a crash) it stores nothing twice.
    return this.write(
      'insert_chat_messages',
      `WITH done AS (DELETE FROM ${this.s}.task_queue WHERE id = $2)
       INSERT INTO ${this.s}.chat_messages (bot_id, task_id, role, content, model, created_at)
       VALUES ($1, $2, 'user', $3, NULL, $5), ($1, $2, 'assistant', $4, $6, $7)
       ON CONFLICT DO NOTHING`,
      [x.botId, x.taskId, x.message, x.reply, x.at, x.model, x.repliedAt],
    );
  }

  /** Persists an accepted message (or keeps the write in the outbox while the database is down). */
  persistTask(t: { id: string; botId: string; message: string; enqueuedAt: Date }) {
    return this.write(
      'insert_task',
      `INSERT INTO ${this.s}.task_queue (id, bot_id, message, enqueued_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING`,
      [t.id, t.botId, t.message, t.enqueuedAt],
    );
  }

  /** Removes a task that ended without an exchange (it failed, with its reason given to the caller). */
  forgetTask(id: string) {
    return this.write('delete_task', `DELETE FROM ${this.s}.task_queue WHERE id = $1`, [id]);
  }

  /** Tasks accepted earlier (by this process or one that was stopped or killed), oldest first. */
  pendingTasks() {
    return this.query<{ id: string; bot_id: string; message: string; enqueued_at: Date }>(
      'select_tasks',
      `SELECT id::text, bot_id, message, enqueued_at FROM ${this.s}.task_queue ORDER BY enqueued_at, id`,
    );
  }

  audit(action: string, botId: string | null, details: Record<string, unknown> = {}) {
    return this.write(
      'insert_audit_log',
      `INSERT INTO ${this.s}.audit_logs (action, bot_id, details, created_at) VALUES ($1, $2, $3, $4)`,
      [action, botId, JSON.stringify(details), new Date()],
    );
  }

  /** A bot's most recent messages, newest first (served by idx_bot_created). */
  recentMessages(botId: string, limit = 50) {
    return this.query<ChatMessageRow>(
      'select_chat_messages',
      `SELECT id::text, bot_id, task_id::text, role, content, model, created_at
         FROM ${this.s}.chat_messages WHERE bot_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [botId, limit],
    );
  }

  knownBots() {
    return this.query<{ id: string; model: string; status: string }>(
      'select_bots',
      `SELECT id, model, status FROM ${this.s}.bots ORDER BY id`,
    );
  }

  // --- availability ----------------------------------------------------------------------------

  private enqueueWrite(w: PendingWrite) {
    const max = this.options.maxOutbox ?? 100_000;
    if (this.outbox.length >= max) {
      const dropped = this.outbox.shift();
      this.options.logger.error(
        { operation: dropped?.operation, max },
        'database outbox full; dropped the oldest write',
      );
    }
    this.outbox.push(w);
    if (this.available && !this.flushing) void this.flush();
  }

  private markDown(err: unknown) {
    this.lastError = (err as Error)?.message?.replace(/postgres(ql)?:\/\/\S+/gi, '<database>') ?? 'unknown';
    // While down, a probe is always scheduled (check() reschedules itself); keep its backoff.
    if (!this.available) return;
    this.available = false;
    this.options.logger.warn({ reason: this.lastError }, 'database unavailable: entering degraded mode');
    this.emit(false);
    this.schedule(this.options.probe.initialMs, true);
  }

  private emit(available: boolean) {
    for (const l of this.listeners) {
      try {
        l(available);
      } catch (err) {
        this.options.logger.error(
          { err: { message: (err as Error).message } },
          'availability listener threw',
        );
      }
    }
  }

  private schedule(delay: number, resetBackoff = false) {
    if (this.closed) return;
    if (resetBackoff) this.probeDelay = this.options.probe.initialMs;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), delay);
    this.timer.unref();
  }

  /** Heartbeat while up, reconnection probe (exponential backoff) while down. */
  private async check(): Promise<void> {
    if (this.closed) return;
    try {
      await this.options.metrics.db.trackQuery('probe', () => this.pool.query('SELECT 1'));
      if (!this.migrated) {
        const applied = await this.options.metrics.db.trackQuery('migrate', () =>
          migrate(this.pool, this.options.schema),
        );
        this.migrated = true;
        if (applied.length) this.options.logger.info({ versions: applied }, 'database migrations applied');
      }
      if (!this.available) {
        this.available = true;
        this.probeDelay = this.options.probe.initialMs;
        this.options.logger.info(
          { pendingWrites: this.outbox.length },
          'database available: leaving degraded mode',
        );
        await this.flush();
        this.emit(true);
      }
      this.schedule(this.options.heartbeatMs);
    } catch (err) {
      if (this.available) {
        this.markDown(err);
        return;
      }
      this.lastError = (err as Error)?.message?.replace(/postgres(ql)?:\/\/\S+/gi, '<database>') ?? 'unknown';
      if (!isConnectionError(err)) {
        this.options.logger.error({ err: { message: this.lastError } }, 'database check failed');
      }
      const delay = this.probeDelay;
      this.probeDelay = Math.min(this.probeDelay * 2, this.options.probe.maxMs);
      this.schedule(delay);
    }
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      let written = 0;
      while (this.outbox.length > 0 && this.available && !this.closed) {
        const w = this.outbox[0]!;
        try {
          await this.options.metrics.db.trackQuery(w.operation, () => this.pool.query(w.sql, w.params));
          this.outbox.shift();
          written++;
        } catch (err) {
          if (isConnectionError(err)) {
            this.markDown(err);
            break;
          }
          this.outbox.shift();
          this.options.logger.error(
            { operation: w.operation, err: { message: (err as Error).message } },
            'dropped a queued write the database rejected',
          );
        }
      }
      if (written)
        this.options.logger.info({ written, left: this.outbox.length }, 'replayed queued database writes');
    })().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Waits for queued writes (bounded), then closes the pool. */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.available && this.outbox.length) {
      await Promise.race([this.flush(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    }
    this.closed = true;
    clearTimeout(this.timer);
    if (this.outbox.length) {
      this.options.logger.warn(
        { pendingWrites: this.outbox.length },
        'closing with writes the database never received',
      );
    }
    await this.pool.end().catch(() => {});
  }
}
