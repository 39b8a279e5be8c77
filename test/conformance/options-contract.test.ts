// One options contract for every factory: an unknown key is rejected naming the closest known one,
// a value of the wrong kind is rejected naming the option, what it must be and what it got, each
// with the package's error code. Both leaf packages carry the same schema helper (a byte-identical
// copy, since @deia/metrics and @deia/health do not import each other).
import { readFileSync } from 'node:fs';
import { deiaExpress } from '@deia/express';
import { createHealth, createShutdown, DeiaHealthError, memoryCheck } from '@deia/health';
import { createMetrics, DeiaMetricsError } from '@deia/metrics';
import { describe, expect, it } from 'vitest';

const thrown = (f: () => unknown): Error & { code?: string } => {
  try {
    f();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('did not throw');
};

const metrics = createMetrics({ groups: ['http'] });

const cases: Array<[string, () => unknown, abstract new (...args: never[]) => Error, string, RegExp]> = [
  [
    'createMetrics typo',
    () => createMetrics({ grups: ['http'] } as never),
    DeiaMetricsError,
    'DEIA_METRICS_OPTIONS',
    /createMetrics: unknown option "grups" \(did you mean "groups"\?\)/,
  ],
  [
    'createMetrics wrong type',
    () => createMetrics({ maxLabelValues: '5' } as never),
    DeiaMetricsError,
    'DEIA_METRICS_OPTIONS',
    /createMetrics: maxLabelValues must be a positive integer, got the string "5"/,
  ],
  [
    'createHealth typo',
    () => createHealth({ checks: {}, cacheTTLMs: 5 } as never),
    DeiaHealthError,
    'DEIA_HEALTH_OPTIONS',
    /createHealth: unknown option "cacheTTLMs" \(did you mean "cacheTtlMs"\?\)/,
  ],
  [
    'createHealth wrong type',
    () => createHealth({ checks: {}, exposeHostnames: 'yes' } as never),
    DeiaHealthError,
    'DEIA_HEALTH_OPTIONS',
    /createHealth: exposeHostnames must be true or false, got the string "yes"/,
  ],
  [
    'createShutdown typo',
    () => createShutdown({ timeOutMs: 5, signals: false } as never),
    DeiaHealthError,
    'DEIA_SHUTDOWN_OPTIONS',
    /createShutdown: unknown option "timeOutMs" \(did you mean "timeoutMs"\?\)/,
  ],
  [
    'createShutdown wrong type',
    () => createShutdown({ signals: 'SIGTERM' } as never),
    DeiaHealthError,
    'DEIA_SHUTDOWN_OPTIONS',
    /createShutdown: signals must be false or a list of signal names .*, got the string "SIGTERM"/,
  ],
  [
    'check factory typo',
    () => memoryCheck({ timeoutMS: 5 } as never),
    DeiaHealthError,
    'DEIA_HEALTH_OPTIONS',
    /memoryCheck: unknown option "timeoutMS" \(did you mean "timeoutMs"\?\)/,
  ],
  [
    'check factory wrong type',
    () => memoryCheck({ critical: 1 } as never),
    DeiaHealthError,
    'DEIA_HEALTH_OPTIONS',
    /memoryCheck: critical must be true or false, got the number 1/,
  ],
  [
    'adapter typo',
    () => deiaExpress({ metrics, metricsPth: '/m' } as never),
    DeiaMetricsError,
    'DEIA_HTTP_OPTIONS',
    /deiaExpress: unknown option "metricsPth" \(did you mean "metricsPath"\?\)/,
  ],
  [
    'adapter wrong type',
    () => deiaExpress({ metrics, accessLog: 'on' } as never),
    DeiaMetricsError,
    'DEIA_HTTP_OPTIONS',
    /deiaExpress: accessLog must be true or false, got the string "on"/,
  ],
  [
    'adapter shutdown settings typo',
    () => deiaExpress({ metrics, shutdown: { timeoutMS: 5 } } as never),
    DeiaMetricsError,
    'DEIA_HTTP_OPTIONS',
    /deiaExpress: shutdown: unknown option "timeoutMS" \(did you mean "timeoutMs"\?\)/,
  ],
  [
    'options not an object',
    () => createMetrics(42 as never),
    DeiaMetricsError,
    'DEIA_METRICS_OPTIONS',
    /createMetrics: options must be an object, got the number 42/,
  ],
];

describe('one options contract', () => {
  it.each(cases)('%s', (_name, attempt, ErrorClass, code, message) => {
    const error = thrown(attempt);
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('@deia/metrics and @deia/health carry the same schema helper', () => {
    const read = (pkg: string) =>
      readFileSync(new URL(`../../packages/${pkg}/src/options.ts`, import.meta.url), 'utf8');
    expect(read('health')).toBe(read('metrics'));
  });
});
