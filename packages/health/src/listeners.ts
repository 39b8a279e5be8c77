/** The part of an EventEmitter used to give a borrowed emitter an error path. */
export interface ErrorEmitterLike {
  on?(event: 'error', listener: (err: Error) => void): unknown;
  removeListener?(event: 'error', listener: (err: Error) => void): unknown;
  listenerCount?(event: 'error'): number;
}

const warned = new WeakSet<object>();

/**
 * Warns once per object (not per check run) when a user's emitter has no `'error'` listener: an
 * `'error'` event then crashes the process (pg Pool) or prints an unhandled-error stack (ioredis).
 * The SDK does not attach one itself: what to do with the user's connection errors is theirs.
 */
export function warnIfNoErrorListener(target: object, what: string, advice: string): void {
  if (warned.has(target)) return;
  const count = (target as ErrorEmitterLike).listenerCount;
  if (typeof count !== 'function') return;
  let n: number;
  try {
    n = count.call(target, 'error');
  } catch {
    return;
  }
  warned.add(target);
  if (n === 0) {
    process.emitWarning(`${what} has no 'error' listener: ${advice}`, {
      type: 'DeiaHealthWarning',
      code: 'DEIA_HEALTH_NO_ERROR_LISTENER',
    });
  }
}
