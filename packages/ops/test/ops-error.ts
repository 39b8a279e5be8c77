// Shared by the ops tests that reject options: what a caller catches is a DeiaOpsError with a
// stable code, not just a message.
import { expect } from 'vitest';
import { DeiaOpsError, type DeiaOpsErrorCode } from '../src/index.js';

/** Runs `attempt` and expects a `DeiaOpsError` with `code` whose message matches `message`. */
export function expectOpsError(
  attempt: () => unknown,
  code: DeiaOpsErrorCode,
  message: RegExp,
): DeiaOpsError {
  let error: unknown;
  try {
    attempt();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DeiaOpsError);
  const e = error as DeiaOpsError;
  expect({ name: e.name, code: e.code }).toEqual({ name: 'DeiaOpsError', code });
  expect(e.message).toMatch(message);
  return e;
}
