import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  accessLog,
  botLogger,
  createLogger,
  DeiaTracingError,
  getTracing,
  type LoggerOptions,
  redactConnectionString,
  requestLogger,
  startTracing,
} from '../src/index.js';

const off = { http: false, express: false, fastify: false, pg: false, ioredis: false, pino: false } as const;

beforeAll(() => {
  startTracing({
    serviceName: 'tracing-test',
    instrumentations: off,
    spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })],
  });
});
afterAll(() => getTracing()?.shutdown());

function capture(options: LoggerOptions = {}) {
  const raw: string[] = [];
  const logger = createLogger({
    service: 'api',
    destination: { write: (s: string) => raw.push(s) },
    ...options,
  });
  return { logger, raw, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the @deia/tracing/logger entry', () => {
  it('imports pino, @opentelemetry/api and node builtins only (no SDK), through every file it loads', () => {
    const external = new Set<string>();
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      // value imports and re-exports; `import type` / `export type` are erased
      for (const m of source.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)) {
        const spec = m[1] as string;
        if (spec.startsWith('.'))
          visit(fileURLToPath(new URL(spec.replace(/\.js$/, '.ts'), pathToFileURL(file))));
        // the private options contract is bundled into the entry: follow it like a file of ours
        else if (spec === '@deia/options')
          visit(fileURLToPath(new URL('../../options/src/index.ts', import.meta.url)));
        else external.add(spec);
      }
    };
    visit(fileURLToPath(new URL('../src/logger-entry.ts', import.meta.url)));
    expect(seen.size).toBeGreaterThan(3);
    expect([...external].filter((s) => !s.startsWith('node:')).sort()).toEqual([
      '@opentelemetry/api',
      'pino',
    ]);
  });

  it('takes the service name from the running tracing, so logs and spans agree', () => {
    const raw: string[] = [];
    const write = (s: string) => raw.push(s);
    createLogger({ destination: { write } }).info('a');
    expect(JSON.parse(raw[0] as string).service).toBe('tracing-test');
  });
});

describe('createLogger format', () => {
  it('writes the guide format: level word, ISO timestamp, service, trace ids, fields, message', () => {
    const { logger, lines, raw } = capture();
    trace.getTracer('t').startActiveSpan('op', (span) => {
      logger.info(
        { user_id: 'user123', metadata: { document_id: 'doc123' } },
        'Document uploaded successfully',
      );
      const line = lines()[0] as Record<string, unknown>;
      expect(line).toEqual({
        level: 'INFO',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        service: 'api',
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
        trace_flags: '01',
        user_id: 'user123',
        metadata: { document_id: 'doc123' },
        message: 'Document uploaded successfully',
      });
      expect(Object.keys(line).slice(0, 6)).toEqual([
        'level',
        'timestamp',
        'service',
        'trace_id',
        'span_id',
        'trace_flags',
      ]);
      span.end();
    });
    expect(raw[0]?.endsWith('\n')).toBe(true);
  });

  it('has no trace fields outside a span, and lower-case levels on request', () => {
    const { logger, lines } = capture({ levelCase: 'lower' });
    logger.warn('outside');
    expect(lines()[0]).toEqual({
      level: 'warn',
      timestamp: expect.any(String),
      service: 'api',
      message: 'outside',
    });
  });

  it('child loggers per bot and per request carry their ids', () => {
    const { logger, lines } = capture();
    botLogger(logger, 'bot-7').info('started');
    requestLogger(logger, { id: 'req-1', method: 'GET', route: '/api/bots/:id' }).info('hit');
    expect(lines()[0]).toMatchObject({ bot_id: 'bot-7', message: 'started' });
    expect(lines()[1]).toMatchObject({ request_id: 'req-1', method: 'GET', route: '/api/bots/:id' });
  });

  it('accessLog picks the level by status and marks the entry', () => {
    const { logger, lines } = capture();
    const access = accessLog(logger);
    access.info({ method: 'GET', route: '/a', status: 200 }, 'request');
    access.info({ method: 'GET', route: '/a', statusCode: 404 }, 'request');
    access.info({ method: 'GET', route: '/a', status: 503 }, 'request');
    expect(lines().map((l) => [l.level, l.event_type])).toEqual([
      ['INFO', 'access'],
      ['WARN', 'access'],
      ['ERROR', 'access'],
    ]);
  });

  it('rejects bad options with a coded error', () => {
    for (const bad of [{ level: 'verbose' }, { levelCase: 'title' }, { redact: 'yes' }, { colour: true }]) {
      try {
        createLogger(bad as never);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(DeiaTracingError);
        expect((err as DeiaTracingError).code).toBe('DEIA_LOGGER_OPTIONS');
      }
    }
  });

  it('pretty printing (pino-pretty) in development, still redacted', async () => {
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'development';
    try {
      const { logger, raw } = capture({ pretty: true });
      logger.info({ password: 'hunter2' }, 'hello postgres://u:s3cr3t@db/x');
      for (let i = 0; i < 50 && raw.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const text = raw.join('');
      expect(text).toContain('INFO');
      expect(text).toContain('hello postgres://[REDACTED]@db/x');
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('s3cr3t');
      expect(() => JSON.parse(text)).toThrow();
    } finally {
      process.env.NODE_ENV = saved;
    }
  });

  it('pretty printing is ignored in production', () => {
    const saved = process.env.NODE_ENV;
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    process.env.NODE_ENV = 'production';
    try {
      const { logger, lines } = capture({ pretty: true });
      logger.info('json');
      expect(lines()[0]).toMatchObject({ level: 'INFO', message: 'json' });
      expect(warning).toHaveBeenCalled();
    } finally {
      process.env.NODE_ENV = saved;
      warning.mockRestore();
    }
  });
});

describe('redaction (on by default)', () => {
  const secrets = ['s3cr3t-pw', 'hunter2', 'Bearer abc.def.ghi', 'sid=xyz', 'tok-123', 'k-456', 'dsnpass'];

  it('never writes a connection string password, a secret header or a nested password', () => {
    const { logger, raw, lines } = capture();
    const err = new Error('connect failed for postgres://app:s3cr3t-pw@db:5432/bots');
    logger.info(
      {
        databaseUrl: 'postgres://app:s3cr3t-pw@db.internal:5432/bots?sslmode=require',
        redis: 'redis://:hunter2@cache:6379/0',
        dsn: 'host=db user=app password=dsnpass dbname=bots',
        req: { headers: { Authorization: 'Bearer abc.def.ghi', cookie: 'sid=xyz', accept: 'json' } },
        config: { db: { nested: [{ password: 'hunter2' }] }, apiKey: 'k-456', refresh_token: 'tok-123' },
        usage: { input_tokens: 12, max_tokens: 100 },
      },
      'connecting to postgres://app:s3cr3t-pw@db/bots',
    );
    logger.error({ err }, 'failed');
    logger.child({ url: 'amqp://guest:hunter2@mq' }).info('child binding');
    const text = raw.join('');
    for (const secret of secrets) expect(text).not.toContain(secret);
    // biome-ignore lint/suspicious/noExplicitAny: reading a parsed JSON line
    const first = lines()[0] as Record<string, any>;
    expect(first.databaseUrl).toBe('postgres://[REDACTED]@db.internal:5432/bots?sslmode=require');
    expect(first.redis).toBe('redis://[REDACTED]@cache:6379/0');
    expect(first.dsn).toBe('host=db user=app password=[REDACTED] dbname=bots');
    expect(first.req.headers).toEqual({ Authorization: '[REDACTED]', cookie: '[REDACTED]', accept: 'json' });
    expect(first.config.db.nested[0].password).toBe('[REDACTED]');
    expect(first.usage).toEqual({ input_tokens: 12, max_tokens: 100 });
    expect(first.message).toBe('connecting to postgres://[REDACTED]@db/bots');
  });

  it('checks the properties of errors (err key and nested), keeping type, message and stack', () => {
    const { logger, raw, lines } = capture();
    const err = Object.assign(new Error('request failed'), {
      config: { headers: { Authorization: 'Bearer abc.def.ghi' } },
      status: 401,
    });
    logger.error({ err }, 'upstream');
    logger.warn({ cause: err }, 'nested');
    expect(raw.join('')).not.toContain('abc.def.ghi');
    // biome-ignore lint/suspicious/noExplicitAny: reading parsed JSON lines
    const [first, second] = lines() as Array<Record<string, any>>;
    expect(first?.err).toMatchObject({ type: 'Error', message: 'request failed', status: 401 });
    expect(first?.err.stack).toContain('request failed');
    expect(first?.err.config.headers.Authorization).toBe('[REDACTED]');
    expect(second?.cause).toMatchObject({ type: 'Error', message: 'request failed', status: 401 });
    expect(second?.cause.config.headers.Authorization).toBe('[REDACTED]');
  });

  it('copes with cycles and deep nesting', () => {
    const { logger, raw } = capture();
    const cyclic: Record<string, unknown> = { name: 'a', secret: 'hunter2' };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { password: 'hunter2' };
    for (let i = 0; i < 50; i++) deep = { next: deep };
    expect(() => logger.info({ cyclic, deep }, 'odd shapes')).not.toThrow();
    expect(raw.join('')).toContain('odd shapes');
    expect(raw.join('')).not.toContain('hunter2');
    expect(raw.join('')).toContain('[Circular]');
  });

  it('does not mutate the logged object', () => {
    const { logger } = capture();
    const obj = { password: 'hunter2', nested: { token: 'tok-123' } };
    logger.info(obj);
    expect(obj).toEqual({ password: 'hunter2', nested: { token: 'tok-123' } });
  });

  it('accepts extra keys and a censor, and can be switched off', () => {
    const custom = capture({ redact: { keys: ['sessionId'], censor: '***' } });
    custom.logger.info({ sessionId: 'abc', password: 'x' });
    expect(custom.lines()[0]).toMatchObject({ sessionId: '***', password: '***' });
    const offLogger = capture({ redact: false });
    offLogger.logger.info({ password: 'visible' });
    expect(offLogger.lines()[0]).toMatchObject({ password: 'visible' });
  });

  it('redactConnectionString cleans userinfo and key=value credentials', () => {
    expect(redactConnectionString('postgresql://u:p@h/db and mongodb+srv://x:y@z')).toBe(
      'postgresql://[REDACTED]@h/db and mongodb+srv://[REDACTED]@z',
    );
    expect(redactConnectionString('http://h/path?api_key=abc&x=1')).toBe(
      'http://h/path?api_key=[REDACTED]&x=1',
    );
    expect(redactConnectionString('no secrets here: a=b')).toBe('no secrets here: a=b');
  });
});
