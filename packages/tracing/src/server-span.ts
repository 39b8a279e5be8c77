import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Attributes,
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { type RPCMetadata, RPCType, setRPCMetadata, suppressTracing } from '@opentelemetry/core';

/** Published by `node:http` for every request, right before the server's `'request'` event (Node >= 20). */
const REQUEST_START = 'http.server.request.start';

const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
]);

interface RequestStart {
  request: IncomingMessage;
  response: ServerResponse;
}

export interface ServerSpanOptions {
  tracer: Tracer;
  /** Makes `ctx` the active context for the rest of this request (`AsyncLocalStorageContextManager.attach`). */
  enter(ctx: Context): void;
  /** Requests that get no span; their handlers run with tracing suppressed. */
  ignore(request: IncomingMessage, path: string): boolean;
}

/**
 * The HTTP server span without `@opentelemetry/instrumentation-http`'s server side: a subscriber to
 * node:http's `http.server.request.start` channel starts the span (parent from `traceparent`), makes it
 * the active context for the request (so pg/ioredis/pino and the route hooks see it) and ends it when
 * the response closes. The route comes from the same RPC metadata the Express instrumentation and the
 * Fastify hook already fill in. Nothing is patched and no emitter is wrapped: the attributes are the ones
 * a trace back-end groups by (method, route, status, path, scheme, protocol version, user agent).
 * Returns the unsubscribe.
 */
export function lightServerSpans(options: ServerSpanOptions): () => void {
  const { tracer, enter, ignore } = options;
  const suppressed = suppressTracing(ROOT_CONTEXT);
  const onStart = (message: unknown) => {
    const { request, response } = message as RequestStart;
    try {
      const url = request.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      if (ignore(request, path)) {
        // Also replaces the context a previous request left on this keep-alive connection.
        enter(suppressed);
        return;
      }
      const headers = request.headers;
      // Most requests carry no trace context: skip the propagators' parsing for them.
      const parent = carriesContext(headers) ? propagation.extract(ROOT_CONTEXT, headers) : ROOT_CONTEXT;
      const method = request.method ?? 'GET';
      const known = KNOWN_METHODS.has(method);
      const attributes: Attributes = {
        'http.request.method': known ? method : '_OTHER',
        'url.path': path,
        'url.scheme': (request.socket as { encrypted?: boolean } | null)?.encrypted ? 'https' : 'http',
        'network.protocol.version': request.httpVersion,
      };
      if (!known) attributes['http.request.method_original'] = method;
      const agent = headers['user-agent'];
      if (agent !== undefined) attributes['user_agent.original'] = agent;
      const span = tracer.startSpan(known ? method : 'HTTP', { kind: SpanKind.SERVER, attributes }, parent);
      const meta: RPCMetadata = { type: RPCType.HTTP, span };
      enter(setRPCMetadata(trace.setSpan(parent, span), meta));
      // 'close' comes once per response (also when the client goes away first); `on` spares `once`'s wrapper.
      response.on('close', () => finish(span, meta, response, known ? method : 'HTTP'));
    } catch {
      // tracing must never break the request: this one just has no server span
    }
  };
  diagnostics.subscribe(REQUEST_START, onStart);
  return () => diagnostics.unsubscribe(REQUEST_START, onStart);
}

/** Whether the request has a header the global propagator reads (`traceparent`, `baggage`, ...). */
function carriesContext(headers: IncomingMessage['headers']): boolean {
  for (const field of propagation.fields()) {
    if (headers[field] !== undefined) return true;
  }
  return false;
}

function finish(span: Span, meta: RPCMetadata, response: ServerResponse, name: string): void {
  const status = response.statusCode;
  span.setAttribute('http.response.status_code', status);
  if (meta.type === RPCType.HTTP && meta.route !== undefined) {
    span.setAttribute('http.route', meta.route);
    span.updateName(`${name} ${meta.route}`);
  }
  if (status >= 500) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute('error.type', String(status));
  } else if (!response.writableFinished) {
    // The client went away before the response was sent.
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'response not finished' });
    span.setAttribute('error.type', 'aborted');
  }
  span.end();
}
