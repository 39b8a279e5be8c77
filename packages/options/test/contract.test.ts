import { describe, expect, it } from 'vitest';
import { checkKeys, checkOptions, closest, describeValue, type OptionsSchema, rules } from '../src/index.js';

class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`[${code}] ${message}`);
  }
}
const fail = (message: string): never => {
  throw new CodedError('TEST_OPTIONS', message);
};
const SCHEMA: OptionsSchema = {
  timeoutMs: rules.number('a positive number of milliseconds', { min: 0, exclusive: true }),
  name: { ...rules.nonEmptyString(), required: true },
  mode: rules.oneOf(['a', 'b']),
  custom: {
    must: 'even',
    ok: (v) => (v as number) % 2 === 0 || `custom ${String(v)} is odd; pass an even number.`,
  },
};
const thrown = (f: () => unknown): CodedError => {
  try {
    f();
  } catch (err) {
    return err as CodedError;
  }
  throw new Error('did not throw');
};

describe('the options contract', () => {
  it('rejects an unknown key naming the closest known one and every known one', () => {
    const err = thrown(() => checkOptions('make', { name: 'x', timeOutMS: 1 }, SCHEMA, fail));
    expect(err.code).toBe('TEST_OPTIONS');
    expect(err.message).toBe(
      '[TEST_OPTIONS] make: unknown option "timeOutMS" (did you mean "timeoutMs"?); known: timeoutMs, name, mode, custom.',
    );
  });

  it('names no suggestion when nothing is close', () => {
    expect(thrown(() => checkOptions('make', { name: 'x', zzzzzzzz: 1 }, SCHEMA, fail)).message).toMatch(
      /unknown option "zzzzzzzz"; known:/,
    );
    expect(closest('zzzzzzzz', ['timeoutMs'])).toBeUndefined();
  });

  it('names the option, what it must be and what it got', () => {
    expect(thrown(() => checkOptions('make', { name: 'x', timeoutMs: '5' }, SCHEMA, fail)).message).toBe(
      '[TEST_OPTIONS] make: timeoutMs must be a positive number of milliseconds, got the string "5".',
    );
    expect(thrown(() => checkOptions('make', { name: 'x', timeoutMs: 0 }, SCHEMA, fail)).message).toMatch(
      /got the number 0/,
    );
    expect(thrown(() => checkOptions('make', { name: 'x', mode: 'c' }, SCHEMA, fail)).message).toMatch(
      /mode must be "a", "b", got the string "c"/,
    );
  });

  it('takes a rule-specific complaint, requires required options, and wants an object', () => {
    expect(thrown(() => checkOptions('make', { name: 'x', custom: 3 }, SCHEMA, fail)).message).toBe(
      '[TEST_OPTIONS] make: custom 3 is odd; pass an even number.',
    );
    expect(thrown(() => checkOptions('make', {}, SCHEMA, fail)).message).toMatch(
      /make: options.name is required: name must be a non-empty string/,
    );
    expect(thrown(() => checkOptions('make', [], SCHEMA, fail)).message).toMatch(
      /make: options must be an object, got an array/,
    );
  });

  it('passes valid options through for cross-option checks', () => {
    const o = { name: 'x', timeoutMs: 5, mode: 'a', custom: 2 };
    expect(checkOptions('make', o, SCHEMA, fail)).toBe(o);
  });

  it('checks a nested group of options', () => {
    expect(checkKeys('secrets', undefined, ['a'], fail)).toEqual({});
    expect(checkKeys('secrets', { a: 1 }, ['a'], fail)).toEqual({ a: 1 });
    expect(thrown(() => checkKeys('kubernetes', { namspace: 'x' }, ['namespace'], fail)).message).toBe(
      '[TEST_OPTIONS] kubernetes: unknown option "namspace" (did you mean "namespace"?); known: namespace.',
    );
    expect(thrown(() => checkKeys('grafana', 'x', ['url'], fail)).message).toBe(
      '[TEST_OPTIONS] grafana must be an object, got the string "x".',
    );
  });

  it('describes values without echoing long strings', () => {
    expect(describeValue('x'.repeat(50))).toBe(`the string "${'x'.repeat(40)}..."`);
    expect(describeValue(null)).toBe('null');
    expect(describeValue(() => 1)).toBe('a function');
  });
});
