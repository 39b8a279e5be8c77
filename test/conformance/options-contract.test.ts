// One options contract for every factory: an unknown key is rejected naming the closest known one,
// a value of the wrong kind is rejected naming the option, what it must be and what it got, each
// with the package's error code. One validator does it everywhere: the private @deia/options
// package, bundled into each published package.
import { deiaExpress } from '@deia/express';
import { createHealth, createShutdown, DeiaHealthError, memoryCheck } from '@deia/health';
import { createMetrics, DeiaMetricsError } from '@deia/metrics';
import { DeiaOpsError, generateOps } from '@deia/ops';
import { DeiaTracingError, startTracing } from '@deia/tracing';
import { createLogger } from '@deia/tracing/logger';
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
    'ops generator typo',
    () => generateOps({ kubernets: {} } as never),
    DeiaOpsError,
    'DEIA_OPS_OPTIONS',
    /options: unknown option "kubernets" \(did you mean "kubernetes"\?\)/,
  ],
  [
    'ops nested typo',
    () => generateOps({ grafana: { uidPrefx: 'x' } } as never),
    DeiaOpsError,
    'DEIA_OPS_OPTIONS',
    /grafana: unknown option "uidPrefx" \(did you mean "uidPrefix"\?\)/,
  ],
  [
    'startTracing typo',
    () => startTracing({ sampleRate: 1 } as never),
    DeiaTracingError,
    'DEIA_TRACING_OPTIONS',
    /startTracing: unknown option "sampleRate" \(did you mean "sampleRatio"\?\)/,
  ],
  [
    'startTracing wrong type',
    () => startTracing({ sampleRatio: '1' } as never),
    DeiaTracingError,
    'DEIA_TRACING_OPTIONS',
    /startTracing: sampleRatio must be a number from 0 to 1, got the string "1"/,
  ],
  [
    'createLogger typo',
    () => createLogger({ levl: 'info' } as never),
    DeiaTracingError,
    'DEIA_LOGGER_OPTIONS',
    /createLogger: unknown option "levl" \(did you mean "level"\?\)/,
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
});
