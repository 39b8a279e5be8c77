// Every check factory declares the type of each of its own options, so a value of the wrong type is a
// clear error at start-up, not a check that misbehaves later. Values often come from the environment
// as strings: `eventLoopCheck({ warnMs: '50', failMs: '100' })` compared the strings ('50' > '100') and
// failed with a misleading message; `httpCheck(url, { expectStatus: '204' })` silently expected 2xx.
import { describe, expect, it } from 'vitest';
import {
  DeiaHealthError,
  diskCheck,
  eventLoopCheck,
  httpCheck,
  memoryCheck,
  ollamaCheck,
  postgresCheck,
} from '../src/index.js';

const rejects = (make: () => unknown, message: RegExp) => {
  let error: unknown;
  try {
    make();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(DeiaHealthError);
  expect((error as DeiaHealthError).code).toBe('DEIA_HEALTH_OPTIONS');
  expect((error as Error).message).toMatch(message);
};

describe('check factories reject option values of the wrong type', () => {
  it('numbers given as strings', () => {
    rejects(
      () => eventLoopCheck({ warnMs: '50', failMs: '100' } as never),
      /eventLoopCheck: warnMs must be a number of milliseconds > 0, got the string "50"/,
    );
    rejects(
      () => eventLoopCheck({ resolutionMs: 2.5 }),
      /resolutionMs must be an integer number of milliseconds >= 1/,
    );
    rejects(
      () => memoryCheck({ warnRatio: '0.8' } as never),
      /memoryCheck: warnRatio must be a ratio in \(0, 1\]/,
    );
    rejects(() => memoryCheck({ maxRssBytes: 0 }), /maxRssBytes must be a positive number of bytes/);
    rejects(
      () => diskCheck('/', { failFreeRatio: '0.1' } as never),
      /diskCheck: failFreeRatio must be a free-space ratio/,
    );
  });

  it("httpCheck's method, headers, expected status and fetch", () => {
    const url = 'http://127.0.0.1:1/health';
    rejects(
      () => httpCheck(url, { expectStatus: '204' } as never),
      /expectStatus must be an HTTP status code \(e\.g\. 204\) or a function/,
    );
    rejects(() => httpCheck(url, { expectStatus: 2040 }), /expectStatus must be/);
    rejects(
      () => httpCheck(url, { headers: { 'x-token': 42 } } as never),
      /headers must be an object of header names to string values/,
    );
    rejects(() => httpCheck(url, { method: '' }), /method must be an HTTP method/);
    rejects(() => httpCheck(url, { fetch: 'fetch' } as never), /fetch must be a fetch-compatible function/);
  });

  it("ollamaCheck's url, models, headers and fetch; postgresCheck's schema", () => {
    rejects(() => ollamaCheck({ url: 11434 } as never), /ollamaCheck: url must be a URL such as/);
    rejects(
      () => ollamaCheck({ url: 'http://127.0.0.1:11434', models: 'llama3' } as never),
      /models must be an array of model names/,
    );
    rejects(
      () => ollamaCheck({ url: 'http://127.0.0.1:11434', models: ['llama3', ''] }),
      /models must be an array of model names/,
    );
    rejects(
      () => ollamaCheck({ url: 'http://127.0.0.1:11434', fetch: {} } as never),
      /fetch must be a fetch-compatible function/,
    );
    rejects(
      () => postgresCheck({ connectionString: 'postgres://x/y' }, { schema: '' }),
      /postgresCheck: schema must be a non-empty string/,
    );
  });

  it('still takes every valid value', () => {
    expect(() => eventLoopCheck({ warnMs: 50, failMs: 100, resolutionMs: 10 })).not.toThrow();
    expect(() => memoryCheck({ warnRatio: 0.5, failRatio: 1, maxRssBytes: 1e9 })).not.toThrow();
    expect(() => diskCheck('/', { warnFreeRatio: 0.2, failFreeRatio: 0 })).not.toThrow();
    expect(() =>
      httpCheck('http://127.0.0.1:1/', {
        method: 'HEAD',
        headers: { accept: 'text/plain' },
        expectStatus: (s) => s < 500,
        fetch: globalThis.fetch,
      }),
    ).not.toThrow();
    expect(() => httpCheck('http://127.0.0.1:1/', { expectStatus: 204 })).not.toThrow();
    expect(() => ollamaCheck({ url: '', models: [] })).not.toThrow();
  });
});
