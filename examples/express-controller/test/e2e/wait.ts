// Polling with a deadline and a failure message that says what was awaited and what was seen last.

let runDeadline = Number.POSITIVE_INFINITY;

/**
 * Sets an overall deadline (ms since epoch) every later `waitFor` is clipped to, so the whole
 * run stays bounded even when every step would use its own full timeout.
 */
export function setRunDeadline(at: number): void {
  runDeadline = at;
}

export interface WaitOptions {
  timeoutMs: number;
  /** @default 250 */
  intervalMs?: number;
  /** Extra context appended to the timeout message (process output, API state...). */
  diagnose?: () => string | Promise<string>;
}

/**
 * Calls `probe` until it returns a value other than `undefined`/`false` and returns that value.
 * A probe that throws counts as "not yet"; its last error is reported on timeout.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions,
): Promise<T> {
  const interval = options.intervalMs ?? 250;
  const ownDeadline = Date.now() + options.timeoutMs;
  const deadline = Math.min(ownDeadline, runDeadline);
  let last = 'no attempt finished';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = `last probe returned ${String(value)}`;
    } catch (error) {
      last = `last probe threw: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
  let context = '';
  if (options.diagnose) {
    try {
      context = `\n${await options.diagnose()}`;
    } catch (error) {
      context = `\n(diagnose failed: ${String(error)})`;
    }
  }
  const why =
    deadline < ownDeadline
      ? 'the run reached its overall deadline (setRunDeadline)'
      : `timed out after ${options.timeoutMs} ms`;
  throw new Error(`${why} waiting for ${what}; ${last}${context}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** GET or POST with a timeout; returns status and body text, never throws on HTTP errors. */
export async function http(
  url: string,
  init: { method?: string; body?: unknown; timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body,
    signal: AbortSignal.timeout(init.timeoutMs ?? 5_000),
  });
  return { status: response.status, body: await response.text() };
}
