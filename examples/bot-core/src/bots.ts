import type { Metrics } from '@deia/metrics';
import { BotCoreError } from './errors.js';
import type { LlmClient } from './llm.js';
import type { StreamCallOptions } from './llm-stream.js';
import type { BotStatus, BotView, LoggerLike } from './types.js';

/** Bot ids are metric label values and URL segments: keep them short and plain. */
export const BOT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

interface Bot {
  id: string;
  status: BotStatus;
  restarts: number;
  lastError: string | null;
  startedAt: Date | null;
  /** Consecutive failed starts, for the backoff. */
  failures: number;
  restartTimer: NodeJS.Timeout | undefined;
  /** Set by the fault API: every start attempt fails until cleared. */
  crashInjected: boolean;
  /** True while a message is being processed (a bot handles one message at a time). */
  busy: boolean;
}

/** Thrown by a start attempt while a crash is injected. */
class InjectedCrash extends Error {
  constructor(id: string) {
    super(`bot ${id} crashed (injected fault)`);
  }
}

/**
 * Runs the bots. A bot is started through `metrics.bots.trackStartup` (startup time, failures in
 * `bot_start_errors_total`); a bot that crashes is restarted with exponential backoff
 * (`restartBackoff.initialMs`, doubling up to `maxMs`), each attempt counted in
 * `bot_restarts_total`. At most `maxBots` bots are active (running or restarting); `maxBots = 0`
 * refuses every new launch, the guides' way to shed load.
 */
export class BotManager {
  private readonly bots = new Map<string, Bot>();
  private readonly listeners = new Set<(bot: BotView) => void>();
  private readonly deleteListeners = new Set<(id: string) => void>();
  private closed = false;

  constructor(
    private readonly options: {
      metrics: Metrics;
      logger: LoggerLike;
      llm: LlmClient;
      maxBots: number;
      restartBackoff: { initialMs: number; maxMs: number };
    },
  ) {
    options.metrics.bots.observeInstances(() => {
      const c = { running: 0, stopped: 0, error: 0, max: this.options.maxBots };
      for (const b of this.bots.values()) {
        if (b.status === 'running' || b.status === 'starting') c.running++;
        else if (b.status === 'stopped') c.stopped++;
        else c.error++;
      }
      return c;
    });
  }

  get maxBots(): number {
    return this.options.maxBots;
  }

  /** Called on every status change (the controller caches and persists it). */
  onChange(listener: (bot: BotView) => void): void {
    this.listeners.add(listener);
  }

  /** Called when a bot is deleted (the controller removes its row and cache entry). */
  onDelete(listener: (id: string) => void): void {
    this.deleteListeners.add(listener);
  }

  view(bot: Bot): BotView {
    return {
      id: bot.id,
      status: bot.status,
      model: this.options.llm.model,
      restarts: bot.restarts,
      lastError: bot.lastError,
      startedAt: bot.startedAt?.toISOString() ?? null,
      crashInjected: bot.crashInjected,
    };
  }

  list(): BotView[] {
    return [...this.bots.values()].map((b) => this.view(b)).sort((a, b) => a.id.localeCompare(b.id));
  }

  get(id: string): BotView | undefined {
    const b = this.bots.get(id);
    return b && this.view(b);
  }

  /** Registers a bot known from the database as stopped. */
  remember(id: string): void {
    if (!this.bots.has(id) && BOT_ID_RE.test(id)) this.bots.set(id, this.newBot(id));
  }

  isRunning(id: string): boolean {
    return this.bots.get(id)?.status === 'running';
  }

  /** True when the bot should be running (running, starting or waiting for a restart). */
  isActive(id: string): boolean {
    const s = this.bots.get(id)?.status;
    return s === 'running' || s === 'starting' || s === 'restarting';
  }

  activeCount(): number {
    let n = 0;
    for (const b of this.bots.values()) if (this.isActive(b.id)) n++;
    return n;
  }

  private newBot(id: string): Bot {
    // Its start-error and restart counters exist at 0 from now on: a first start that fails is an
    // increase, not a series born at 1 (the rules count those too, but only as a fallback).
    this.options.metrics.bots.register(id);
    return {
      id,
      status: 'stopped',
      restarts: 0,
      lastError: null,
      startedAt: null,
      failures: 0,
      restartTimer: undefined,
      crashInjected: false,
      busy: false,
    };
  }

  private changed(bot: Bot) {
    const v = this.view(bot);
    for (const l of this.listeners) {
      try {
        l(v);
      } catch (err) {
        this.options.logger.error({ err: { message: (err as Error).message } }, 'bot listener threw');
      }
    }
  }

  /** Starts a bot (idempotent for a running one). Throws a coded error when refused or when the start fails. */
  async start(id: string): Promise<BotView> {
    if (!BOT_ID_RE.test(id))
      throw new BotCoreError('BAD_BOT_ID', 'bot id must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}', 400);
    const existing = this.bots.get(id);
    if (existing && this.isActive(id)) return this.view(existing);
    if (this.options.maxBots === 0) {
      throw new BotCoreError('BOT_LAUNCHES_DISABLED', 'new bot launches are disabled (MAX_BOTS=0)', 409);
    }
    if (this.activeCount() >= this.options.maxBots) {
      throw new BotCoreError(
        'MAX_BOTS_REACHED',
        `${this.options.maxBots} bots are already running (MAX_BOTS); stop one first`,
        409,
      );
    }
    const bot = existing ?? this.newBot(id);
    this.bots.set(id, bot);
    bot.failures = 0;
    const ok = await this.attempt(bot);
    if (!ok) {
      throw new BotCoreError(
        'BOT_START_FAILED',
        `bot ${id} failed to start; it will be retried with backoff`,
        500,
      );
    }
    return this.view(bot);
  }

  /** One start attempt; on failure schedules the next one. */
  private async attempt(bot: Bot): Promise<boolean> {
    bot.status = 'starting';
    this.changed(bot);
    try {
      await this.options.metrics.bots.trackStartup(bot.id, () => this.launch(bot));
      if (bot.status !== 'starting') return bot.status === 'running'; // stopped meanwhile
      bot.status = 'running';
      bot.startedAt = new Date();
      bot.failures = 0;
      bot.lastError = null;
      this.options.logger.info({ bot_id: bot.id }, 'bot started');
      this.changed(bot);
      return true;
    } catch (err) {
      if (bot.status !== 'starting') return false;
      this.crashed(bot, err as Error);
      return false;
    } finally {
      this.removeSeriesIfDeleted(bot.id, bot);
    }
  }

  /** A start or message that ended after its bot was deleted recorded into fresh series: remove them. */
  private removeSeriesIfDeleted(id: string, bot?: Bot) {
    const current = this.bots.get(id);
    if (current === undefined || (bot !== undefined && current !== bot)) this.options.metrics.bots.remove(id);
  }

  /** Simulated start-up work (loading a prompt, warming a model); crashes while a crash is injected. */
  private async launch(bot: Bot): Promise<void> {
    await new Promise((r) => setTimeout(r, 10 + Math.floor(Math.random() * 40)));
    if (bot.crashInjected) throw new InjectedCrash(bot.id);
  }

  private crashed(bot: Bot, err: Error) {
    bot.failures++;
    bot.lastError = err.message;
    bot.startedAt = null;
    if (this.closed) {
      bot.status = 'error';
      this.changed(bot);
      return;
    }
    const { initialMs, maxMs } = this.options.restartBackoff;
    const delay = Math.min(initialMs * 2 ** Math.max(0, bot.failures - 1), maxMs);
    bot.status = 'restarting';
    this.options.logger.warn(
      { bot_id: bot.id, err: { message: err.message }, retryInMs: delay },
      'bot crashed',
    );
    this.changed(bot);
    clearTimeout(bot.restartTimer);
    bot.restartTimer = setTimeout(() => {
      bot.restartTimer = undefined;
      if (bot.status !== 'restarting' || this.closed) return;
      bot.restarts++;
      this.options.metrics.bots.recordRestart(bot.id);
      void this.attempt(bot);
    }, delay);
    bot.restartTimer.unref();
  }

  stop(id: string): BotView {
    const bot = this.bots.get(id);
    if (!bot) throw new BotCoreError('BOT_NOT_FOUND', `no bot ${id}`, 404);
    clearTimeout(bot.restartTimer);
    bot.restartTimer = undefined;
    if (bot.status !== 'stopped') {
      bot.status = 'stopped';
      bot.startedAt = null;
      this.options.logger.info({ bot_id: id }, 'bot stopped');
      this.changed(bot);
    }
    return this.view(bot);
  }

  /**
   * Deletes a bot: stops it, forgets it and removes its metric series (`metrics.bots.remove`), so
   * a controller whose bots come and go keeps series only for the bots it has. A start or a
   * message in progress finishes, and the series it records are removed when it does. Throws
   * `BOT_NOT_FOUND` for an unknown id.
   */
  delete(id: string): void {
    const bot = this.bots.get(id);
    if (!bot) throw new BotCoreError('BOT_NOT_FOUND', `no bot ${id}`, 404);
    // Stopped without a change event: a 'stopped' upsert racing the row's deletion could bring the
    // row back, and the bot with it at the next reconnect (the controller persists changes).
    clearTimeout(bot.restartTimer);
    bot.restartTimer = undefined;
    bot.status = 'stopped';
    bot.startedAt = null;
    this.bots.delete(id);
    this.options.metrics.bots.remove(id);
    this.options.logger.info({ bot_id: id }, 'bot deleted');
    for (const l of this.deleteListeners) {
      try {
        l(id);
      } catch (err) {
        this.options.logger.error(
          { bot_id: id, err: { message: (err as Error).message } },
          'bot delete listener failed',
        );
      }
    }
  }

  /** True while the bot exists (not deleted). */
  has(id: string): boolean {
    return this.bots.has(id);
  }

  /**
   * Fault injection: the bot crashes now (when running) and on every start attempt until
   * `clearCrash`; the supervisor keeps restarting it with backoff, a crash loop.
   */
  injectCrash(id: string): BotView {
    if (!BOT_ID_RE.test(id))
      throw new BotCoreError('BAD_BOT_ID', 'bot id must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}', 400);
    const bot = this.bots.get(id) ?? this.newBot(id);
    this.bots.set(id, bot);
    bot.crashInjected = true;
    if (bot.status === 'running') this.crashed(bot, new InjectedCrash(id));
    else this.changed(bot);
    return this.view(bot);
  }

  clearCrash(id: string): BotView {
    const bot = this.bots.get(id);
    if (!bot) throw new BotCoreError('BOT_NOT_FOUND', `no bot ${id}`, 404);
    bot.crashInjected = false;
    this.changed(bot);
    return this.view(bot);
  }

  /** Runs `fn` as the bot's single in-flight message; false when the bot is not running or busy. */
  tryAcquire(id: string): boolean {
    const bot = this.bots.get(id);
    if (bot?.status !== 'running' || bot.busy) return false;
    bot.busy = true;
    return true;
  }

  release(id: string): void {
    const bot = this.bots.get(id);
    if (bot) bot.busy = false;
  }

  /** Answers one message with the bot's model (`bot_message_processing_duration_seconds`, `bot_messages_processed_total`). */
  handleMessage(id: string, message: string) {
    return this.options.metrics.bots
      .trackMessage(id, () => this.options.llm.generate(message))
      .finally(() => this.removeSeriesIfDeleted(id));
  }

  /**
   * Streams the answer to one message (`options.onChunk`), counted like a queued message
   * (`bot_message_processing_duration_seconds`, `bot_messages_processed_total`). A streamed chat
   * runs beside the queue: it does not wait for the bot's queued message. Throws `BOT_NOT_FOUND`
   * or `BOT_NOT_RUNNING` before calling the model.
   */
  streamMessage(id: string, message: string, options: StreamCallOptions) {
    const bot = this.bots.get(id);
    if (!bot) return Promise.reject(new BotCoreError('BOT_NOT_FOUND', `no bot ${id}`, 404));
    if (bot.status !== 'running') {
      return Promise.reject(new BotCoreError('BOT_NOT_RUNNING', `bot ${id} is ${bot.status}`, 409));
    }
    return this.options.metrics.bots
      .trackMessage(id, () => this.options.llm.stream(message, options))
      .finally(() => this.removeSeriesIfDeleted(id));
  }

  close(): void {
    this.closed = true;
    for (const b of this.bots.values()) clearTimeout(b.restartTimer);
  }
}
