import { randomUUID } from 'node:crypto';
import type { BotCore } from './bot-core.js';
import { BOT_ID_RE } from './bots.js';
import { CHAT_STREAM_CONTENT_TYPE, openChatStream } from './chat-stream.js';
import { BotCoreError } from './errors.js';
import type { ApiRequest, ApiResponse, ApiRoute } from './types.js';

const MAX_MESSAGE_LENGTH = 4_000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function botId(req: ApiRequest): string {
  const id = req.params.id ?? '';
  if (!BOT_ID_RE.test(id))
    throw new BotCoreError('BAD_BOT_ID', 'bot id must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}', 400);
  return id;
}

/** The `{ message, taskId? }` body of the message and chat routes, checked (taskId lower-cased). */
function readMessage(req: ApiRequest): { message: string; taskId: string } {
  const body = (req.body ?? {}) as { message?: unknown; taskId?: unknown };
  const message = body.message;
  if (typeof message !== 'string' || message.trim() === '' || message.length > MAX_MESSAGE_LENGTH) {
    throw new BotCoreError(
      'BAD_MESSAGE',
      `send JSON {"message": "..."} with 1 to ${MAX_MESSAGE_LENGTH} characters`,
      400,
    );
  }
  // PostgreSQL text cannot hold NUL: refuse it here rather than accept it and fail the write
  if (message.includes('\u0000')) {
    throw new BotCoreError('BAD_MESSAGE', 'the message must not contain NUL (\\u0000) characters', 400);
  }
  const taskId = body.taskId ?? randomUUID();
  if (typeof taskId !== 'string' || !UUID_RE.test(taskId)) {
    throw new BotCoreError('BAD_TASK_ID', 'taskId, when given, must be a UUID', 400);
  }
  return { message, taskId: taskId.toLowerCase() };
}

/** Maps a thrown error to a JSON response; unknown errors become a 500 without internals. */
export function errorResponse(err: unknown, mode: string): ApiResponse {
  if (err instanceof BotCoreError) {
    return {
      statusCode: err.statusCode,
      body: { error: err.code, message: err.message, mode },
      headers: err.statusCode === 503 ? { 'retry-after': '5' } : undefined,
    };
  }
  return { statusCode: 500, body: { error: 'INTERNAL', message: 'internal error', mode } };
}

type Handle = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;
type Wrap = (handle: Handle) => (req: ApiRequest) => Promise<ApiResponse>;
type Ok = (body: Record<string, unknown>, statusCode?: number) => ApiResponse;
/** Shared by every route: `wrap` maps errors and adds the mode header, `ok` a 2xx body with the mode. */
interface Helpers {
  wrap: Wrap;
  ok: Ok;
}

/**
 * The REST API, framework-neutral: both controllers register these routes as they are. Every
 * response carries `mode` ("normal" or "degraded") in the body and the `x-service-mode` header.
 */
export function createApiRoutes(core: BotCore): ApiRoute[] {
  const { logger } = core;
  const wrap: Wrap =
    (handle: (req: ApiRequest) => Promise<ApiResponse> | ApiResponse) =>
    async (req: ApiRequest): Promise<ApiResponse> => {
      let res: ApiResponse;
      try {
        res = await handle(req);
      } catch (err) {
        if (!(err instanceof BotCoreError))
          logger.error({ err: { message: (err as Error).message } }, 'api error');
        res = errorResponse(err, core.mode());
      }
      return { ...res, headers: { ...res.headers, 'x-service-mode': core.mode() } };
    };
  const ok: Ok = (body, statusCode = 200) => ({
    statusCode,
    body: { mode: core.mode(), ...body },
  });
  const helpers = { wrap, ok };
  return [...botRoutes(core, helpers), ...taskRoutes(core, helpers), ...faultRoutes(core, helpers)];
}

/** The bots: list, read, start, stop, delete, message, chat and history. */
function botRoutes(core: BotCore, { wrap, ok }: Helpers): ApiRoute[] {
  const { bots, cache, store } = core;
  return [
    {
      method: 'GET',
      path: '/api/bots',
      handle: wrap(() => ok({ maxBots: bots.maxBots, running: bots.activeCount(), bots: bots.list() })),
    },
    {
      method: 'GET',
      path: '/api/bot/:id',
      handle: wrap(async (req) => {
        const id = botId(req);
        const cached = await cache.get(id);
        if (cached) return ok({ bot: cached, cached: true });
        const bot = bots.get(id);
        if (!bot) throw new BotCoreError('BOT_NOT_FOUND', `no bot ${id}`, 404);
        await cache.set(bot);
        return ok({ bot, cached: false });
      }),
    },
    {
      method: 'POST',
      path: '/api/bot/:id/start',
      handle: wrap(async (req) => ok({ bot: await bots.start(botId(req)) })),
    },
    {
      method: 'POST',
      path: '/api/bot/:id/stop',
      handle: wrap((req) => ok({ bot: bots.stop(botId(req)) })),
    },
    {
      method: 'DELETE',
      path: '/api/bot/:id',
      handle: wrap(async (req) => {
        const id = botId(req);
        bots.delete(id);
        await cache.delete(id);
        return ok({ deleted: id });
      }),
    },
    {
      method: 'POST',
      path: '/api/bot/:id/message',
      handle: wrap((req) => postMessage(core, ok, req)),
    },
    {
      // The streamed answer (NDJSON, see ChatStreamLine); the message route above stays the
      // durable, queued path.
      method: 'POST',
      path: '/api/bot/:id/chat',
      handle: wrap((req) => {
        const id = botId(req);
        const { message, taskId } = readMessage(req);
        const bot = bots.get(id);
        if (!bot) throw new BotCoreError('BOT_NOT_FOUND', `no bot ${id}`, 404);
        if (bot.status !== 'running')
          throw new BotCoreError('BOT_NOT_RUNNING', `bot ${id} is ${bot.status}`, 409);
        return {
          statusCode: 200,
          body: undefined,
          headers: { 'content-type': CHAT_STREAM_CONTENT_TYPE, 'cache-control': 'no-store' },
          stream: openChatStream(core, id, message, taskId),
        };
      }),
    },
    {
      method: 'GET',
      path: '/api/bot/:id/messages',
      handle: wrap(async (req) => {
        const rows = await store.recentMessages(botId(req));
        return ok({
          messages: rows.map((r) => ({
            id: r.id,
            taskId: r.task_id,
            role: r.role,
            content: r.content,
            model: r.model,
            createdAt: new Date(r.created_at).toISOString(),
          })),
        });
      }),
    },
  ];
}

/** POST /api/bot/:id/message: queued (durable), answered within `messageWaitMs` when it can be. */
async function postMessage(core: BotCore, ok: Ok, req: ApiRequest): Promise<ApiResponse> {
  const { queue, config } = core;
  const id = botId(req);
  const { message, taskId } = readMessage(req);
  let accepted: Awaited<ReturnType<typeof queue.enqueue>>;
  try {
    accepted = await queue.enqueue(id, message, taskId);
  } catch (err) {
    if (!(err instanceof BotCoreError) || err.statusCode !== 503) throw err;
    // Not accepted. Tell the client which id to retry with: a retry with the same taskId is
    // stored at most once, even if this attempt reaches the database after all.
    const res = errorResponse(err, core.mode());
    return { ...res, body: { ...(res.body as object), taskId } };
  }
  const { durable, ...task } = accepted;
  if (durable === 'journaled') {
    return ok(
      {
        status: 'degraded',
        task,
        message:
          'the database is unavailable: the message is kept in the local journal and will be answered when it returns',
      },
      202,
    );
  }
  const wait = req.query.wait === '0' || queue.isPaused ? 0 : config.messageWaitMs;
  const done = (await queue.waitFor(task.id, wait)) ?? task;
  if (done.status === 'completed') return ok({ status: 'completed', task: done, reply: done.reply });
  if (done.status === 'failed') {
    return {
      statusCode: 502,
      body: { mode: core.mode(), status: 'failed', error: 'BOT_FAILED', task: done },
    };
  }
  return ok({ status: core.mode() === 'degraded' ? 'degraded' : 'queued', task: done }, 202);
}

/** The queue and its tasks. */
function taskRoutes(core: BotCore, { wrap, ok }: Helpers): ApiRoute[] {
  const { queue, store } = core;
  return [
    {
      method: 'GET',
      path: '/api/tasks',
      handle: wrap(() =>
        ok({
          queue: {
            depth: queue.depth,
            running: queue.running,
            paused: queue.isPaused,
            pendingDatabaseWrites: store.pendingWrites,
            journaled: store.journaledTasks,
          },
          tasks: queue.list(),
        }),
      ),
    },
    {
      method: 'GET',
      path: '/api/tasks/:taskId',
      handle: wrap((req) => {
        const task = queue.get(req.params.taskId ?? '');
        if (!task)
          throw new BotCoreError('TASK_NOT_FOUND', 'no such task (finished tasks are kept for a while)', 404);
        return ok({ task });
      }),
    },
  ];
}

/** Fault injection (DEIA_EXAMPLE_FAULTS=1 only; 404 otherwise). */
function faultRoutes(core: BotCore, { wrap, ok }: Helpers): ApiRoute[] {
  const { bots, queue, config } = core;
  const faultsOnly = () => {
    if (!config.faults) throw new BotCoreError('NOT_FOUND', 'not found', 404);
  };
  return [
    // --- fault injection (DEIA_EXAMPLE_FAULTS=1 only; 404 otherwise) ---------------------------
    {
      method: 'POST',
      path: '/api/admin/bots/:id/crash',
      handle: wrap((req) => {
        faultsOnly();
        return ok({ bot: bots.injectCrash(botId(req)) });
      }),
    },
    {
      method: 'DELETE',
      path: '/api/admin/bots/:id/crash',
      handle: wrap((req) => {
        faultsOnly();
        return ok({ bot: bots.clearCrash(botId(req)) });
      }),
    },
    {
      method: 'POST',
      path: '/api/admin/queue/pause',
      handle: wrap(() => {
        faultsOnly();
        queue.pause();
        return ok({ queue: { paused: true, depth: queue.depth } });
      }),
    },
    {
      method: 'POST',
      path: '/api/admin/queue/resume',
      handle: wrap(() => {
        faultsOnly();
        queue.resume();
        return ok({ queue: { paused: false, depth: queue.depth } });
      }),
    },
    {
      method: 'POST',
      path: '/api/admin/database/stop',
      handle: wrap(async () => {
        faultsOnly();
        if (!core.embedded) {
          throw new BotCoreError('NOT_EMBEDDED', 'only the embedded PGlite can be stopped from here', 409);
        }
        await core.embedded.stopServer();
        return ok({ database: 'stopped' });
      }),
    },
    {
      method: 'POST',
      path: '/api/admin/database/start',
      handle: wrap(async () => {
        faultsOnly();
        if (!core.embedded) {
          throw new BotCoreError('NOT_EMBEDDED', 'only the embedded PGlite can be started from here', 409);
        }
        await core.embedded.startServer();
        return ok({ database: 'started' });
      }),
    },
  ];
}
