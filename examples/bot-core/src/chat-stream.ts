import { Readable } from 'node:stream';
import type { BotCore } from './bot-core.js';
import { BotCoreError } from './errors.js';

/** Content type of `POST /api/bot/:id/chat`: one JSON object per line. */
export const CHAT_STREAM_CONTENT_TYPE = 'application/x-ndjson; charset=utf-8';

/**
 * One line of the chat stream (NDJSON). `start` comes first (the headers leave with it), then
 * `chunk`s, then exactly one of `done` or `error`, then the response ends.
 * `done.saved` is true only once the exchange is committed to PostgreSQL.
 */
export type ChatStreamLine =
  | { type: 'start'; taskId: string; botId: string; model: string }
  | { type: 'chunk'; text: string }
  | {
      type: 'done';
      taskId: string;
      model: string;
      saved: boolean;
      usage: { inputTokens: number | null; outputTokens: number | null };
    }
  | { type: 'error'; error: string; message: string; taskId: string };

/**
 * Answers one message as a stream of NDJSON lines (see `ChatStreamLine`). The returned Readable
 * is what the adapters send: destroying it (the client went away, Express' `pipeline` and
 * Fastify's stream sending both do) aborts the model call. The producer never rejects: a failure
 * of the model becomes an `error` line and a clean end, and the read side applies back-pressure
 * (the model is not read while the client is slow).
 */
export function openChatStream(core: BotCore, botId: string, message: string, taskId: string): Readable {
  const { bots, store, logger, llm } = core;
  const ctl = new AbortController();
  let wake: (() => void) | undefined;
  const resume = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const out = new Readable({
    read: resume,
    destroy(err, cb) {
      ctl.abort();
      resume();
      cb(err);
    },
  });
  out.on('error', (err: NodeJS.ErrnoException) => {
    // a client that went away (Express' pipeline destroys with this): the producer logs it once
    if (err.code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    logger.warn({ bot_id: botId, task_id: taskId, err: { message: err.message } }, 'chat stream error');
  });
  const send = async (line: ChatStreamLine) => {
    if (out.destroyed) return;
    if (!out.push(`${JSON.stringify(line)}\n`)) await new Promise<void>((r) => (wake = r));
  };
  const at = new Date();
  const produce = async () => {
    await send({ type: 'start', taskId, botId, model: llm.model });
    try {
      const completion = await bots.streamMessage(botId, message, {
        signal: ctl.signal,
        onChunk: (text) => send({ type: 'chunk', text }),
      });
      const exchange = {
        botId,
        taskId,
        message,
        reply: completion.text,
        model: completion.model,
        at,
        repliedAt: new Date(),
      };
      const saved = await store.saveExchangeNow(exchange).then(
        () => true,
        (err: Error) => {
          // Not durable, so not acknowledged as saved; kept for later (in memory, best effort).
          logger.warn(
            { bot_id: botId, task_id: taskId, err: { message: err.message } },
            'a streamed reply was not saved',
          );
          store.saveExchange(exchange).catch(() => {});
          return false;
        },
      );
      await send({
        type: 'done',
        taskId,
        model: completion.model,
        saved,
        usage: {
          inputTokens: completion.promptTokens ?? null,
          outputTokens: completion.completionTokens ?? null,
        },
      });
    } catch (err) {
      if (ctl.signal.aborted) {
        logger.info({ bot_id: botId, task_id: taskId }, 'chat stream closed by the client');
        return;
      }
      const coded = err instanceof BotCoreError;
      if (!coded)
        logger.error({ bot_id: botId, err: { message: (err as Error).message } }, 'chat stream failed');
      await send({
        type: 'error',
        error: coded ? err.code : 'INTERNAL',
        message: coded ? err.message : 'internal error',
        taskId,
      });
    }
  };
  produce()
    .catch((err: Error) => logger.error({ err: { message: err.message } }, 'chat stream failed'))
    .finally(() => {
      if (!out.destroyed) out.push(null);
    });
  return out;
}
