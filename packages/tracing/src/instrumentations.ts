import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { ExpressInstrumentationConfig } from '@opentelemetry/instrumentation-express';
import type { HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import { DeiaTracingError } from './errors.js';
import type { Instrumentation, InstrumentationToggles } from './types.js';

// Each instrumentation is loaded only when it is switched on.
const load = createRequire(import.meta.url);
type Ctor<C> = new (config?: C) => Instrumentation;
const ctor = <C>(pkg: string, name: string): Ctor<C> =>
  (load(pkg) as Record<string, Ctor<C>>)[name] as Ctor<C>;

function toggle<C extends object>(value: boolean | C | undefined): C | undefined {
  if (value === false) return undefined;
  return (value === undefined || value === true ? {} : value) as C;
}

/** Every Express layer type: none gets a span unless `layerSpans: true`. */
const ALL_LAYERS = ['middleware', 'router', 'request_handler'];

/** The channel Fastify (>= 4.?) publishes every new instance on; `@fastify/otel` uses it the same way. */
const FASTIFY_INIT = 'fastify.initialization';

interface FastifyLike {
  addHook(
    name: 'onRequest',
    hook: (request: { routeOptions?: { url?: string } }, reply: unknown, done: () => void) => void,
  ): unknown;
}

/**
 * Sets Fastify's route template (`routeOptions.url`, public since Fastify 4.10) on the HTTP server
 * span: instrumentation-http reads `http.route` from the RPC metadata it put in the request context and
 * names the span `GET /bots/:id` when the response finishes. One hook per app, no span of its own.
 */
function fastifyRouteHook(): () => void {
  const onRequest = (request: { routeOptions?: { url?: string } }, _reply: unknown, done: () => void) => {
    const route = request.routeOptions?.url;
    if (route !== undefined) {
      const meta = getRPCMetadata(context.active());
      if (meta?.type === RPCType.HTTP) meta.route = route;
    }
    done();
  };
  const onInit = (message: unknown) => {
    const app = (message as { fastify?: FastifyLike }).fastify;
    try {
      app?.addHook('onRequest', onRequest);
    } catch {
      // an app that cannot take the hook just has no http.route
    }
  };
  diagnostics.subscribe(FASTIFY_INIT, onInit);
  return () => diagnostics.unsubscribe(FASTIFY_INIT, onInit);
}

export interface BuiltInstrumentations {
  list: Instrumentation[];
  /** Set when the light HTTP server span is on: which requests it skips. */
  serverIgnore?: (req: IncomingMessage, path: string) => boolean;
  /** Undoes what is not an instrumentation (the Fastify channel subscription). */
  stop(): void;
}

export function buildInstrumentations(
  toggles: InstrumentationToggles,
  ignorePath: (path: string) => boolean,
): BuiltInstrumentations {
  const list: Instrumentation[] = [];
  let stop = () => {};
  let serverIgnore: ((req: IncomingMessage, path: string) => boolean) | undefined;
  const http = toggle(toggles.http);
  if (http) {
    const { serverSpans = 'light', ...config } = http;
    const userIgnore = config.ignoreIncomingRequestHook;
    const skip = (req: IncomingMessage, path: string) =>
      ignorePath(path) || (userIgnore ? userIgnore(req) : false);
    const ignore = (req: IncomingMessage) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      return skip(req, q === -1 ? url : url.slice(0, q));
    };
    // The light span has split the URL already and asks with the path.
    if (serverSpans === 'light') serverIgnore = skip;
    const Http = ctor<HttpInstrumentationConfig>(
      '@opentelemetry/instrumentation-http',
      'HttpInstrumentation',
    );
    list.push(
      new Http({
        ...config,
        ignoreIncomingRequestHook: ignore,
        // The light server span (server-span.ts) replaces the instrumentation's server side.
        ...(serverSpans === 'light' ? { disableIncomingRequestInstrumentation: true } : {}),
      }),
    );
  }
  const express = toggle(toggles.express);
  if (express) {
    const { layerSpans, ...config } = express;
    const Express = ctor<ExpressInstrumentationConfig>(
      '@opentelemetry/instrumentation-express',
      'ExpressInstrumentation',
    );
    list.push(
      new Express({
        ...(layerSpans
          ? {}
          : { ignoreLayersType: ALL_LAYERS as ExpressInstrumentationConfig['ignoreLayersType'] }),
        ...config,
      }),
    );
  }
  const fastify = toggle(toggles.fastify);
  if (fastify) {
    const { hookSpans, ...config } = fastify;
    if (hookSpans) {
      let Otel: Ctor<Record<string, unknown>>;
      try {
        Otel = ctor('@fastify/otel', 'FastifyOtelInstrumentation');
      } catch (err) {
        if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') throw err;
        throw new DeiaTracingError(
          'DEIA_TRACING_FASTIFY_OTEL_MISSING',
          'instrumentations.fastify.hookSpans needs the optional peer "@fastify/otel" (npm i @fastify/otel).',
        );
      }
      list.push(new Otel({ registerOnInitialization: true, ...config }));
    } else {
      stop = fastifyRouteHook();
    }
  }
  const pg = toggle(toggles.pg);
  if (pg) list.push(new (ctor('@opentelemetry/instrumentation-pg', 'PgInstrumentation'))(pg));
  const ioredis = toggle(toggles.ioredis);
  if (ioredis)
    list.push(new (ctor('@opentelemetry/instrumentation-ioredis', 'IORedisInstrumentation'))(ioredis));
  const pino = toggle(toggles.pino);
  if (pino) {
    const Pino = ctor<Record<string, unknown>>('@opentelemetry/instrumentation-pino', 'PinoInstrumentation');
    // Log *sending* needs an OTel LoggerProvider, which this package does not set up: only trace ids are added.
    list.push(new Pino({ disableLogSending: true, ...pino }));
  }
  return { list, stop, ...(serverIgnore ? { serverIgnore } : {}) };
}
