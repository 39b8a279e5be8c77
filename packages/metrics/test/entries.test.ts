import { describe, expect, it } from 'vitest';
import * as adapter from '../src/adapter.js';
import * as root from '../src/index.js';

// The package root is what applications call; the HTTP core and the helpers adapters build on live
// in `@deia/metrics/adapter`, so a user's autocomplete shows only the public API.
const INTERNAL = [
  'createHttpObserver',
  'validateHttpOptions',
  'foldMethod',
  'PATH_RECORD',
  'PATH_EXCLUDED',
  'PATH_SERVED',
  'validateDefinition',
  'validateBuckets',
];

describe('entry points', () => {
  it('the root exports no adapter-author helpers; ./adapter exports them all', () => {
    for (const name of INTERNAL) {
      expect(Object.keys(root), name).not.toContain(name);
      expect(Object.keys(adapter), name).toContain(name);
    }
    expect(Object.keys(root)).toContain('createMetrics');
  });

  it('exports no internals from either entry (the API reports in etc/ list what is exported)', () => {
    for (const name of [
      'loadPromClient',
      'CLIENT_PACKAGES',
      'clusterRegistryClass',
      'checkOptions',
      'closest',
    ]) {
      expect(Object.keys(root), name).not.toContain(name);
      expect(Object.keys(adapter), name).not.toContain(name);
    }
  });

  it('match() kinds are string literals', () => {
    expect([adapter.PATH_RECORD, adapter.PATH_EXCLUDED, adapter.PATH_SERVED]).toEqual([
      'record',
      'excluded',
      'served',
    ]);
  });

  it('labels a metric declares are required at compile time', () => {
    // type-level only (checked by tsc); never called
    const typeOnly = (m: root.Metrics) => {
      // @ts-expect-error route and status are missing
      m.http.requests.inc({ method: 'GET' });
      // @ts-expect-error a labelled counter needs its labels
      m.http.requests.inc();
      m.http.requests.inc({ method: 'GET', route: '/', status: 200 }, 2);
      m.http.inFlight.inc();
      // @ts-expect-error no such label
      m.http.duration.observe({ method: 'GET', route: '/', status: 200, user: 'x' }, 1);
      // the labels of a timer may be split between its start and its end
      m.http.duration.startTimer({ method: 'GET' })({ route: '/', status: 200 });
    };
    expect(typeof typeOnly).toBe('function');
  });
});
