import { describe, expect, it } from 'vitest';
import * as adapter from '../src/adapter.js';
import * as root from '../src/index.js';

// The package root is what applications call; the HTTP core and the helpers adapters build on live
// in `@deia/metrics/adapter`, so a user's autocomplete shows only the public API.
const INTERNAL = [
  'createHttpObserver',
  'validateHttpOptions',
  'loadPromClient',
  'CLIENT_PACKAGES',
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

  it('match() kinds are string literals', () => {
    expect([adapter.PATH_RECORD, adapter.PATH_EXCLUDED, adapter.PATH_SERVED]).toEqual([
      'record',
      'excluded',
      'served',
    ]);
  });
});
