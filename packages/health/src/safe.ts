// Turning errors and details into text that is safe to show to an anonymous caller.

const URL_WITH_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi;
const URL_RE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi;
// IPv4 (with or without port), bracketed IPv6, and name:port
const HOST_PORT_RE =
  /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b|\[[0-9a-f:]+\](?::\d{1,5})?|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*:\d{1,5}\b/gi;
const PASSWORD_RE = /(password|passwd|pwd|secret|token)\s*[=:]\s*\S+/gi;

/** Removes credentials always, and URLs/hostnames unless `exposeHostnames`. */
export function scrub(text: string, exposeHostnames: boolean): string {
  let out = text.replace(URL_WITH_CREDENTIALS, '$1').replace(PASSWORD_RE, '$1=[redacted]');
  if (!exposeHostnames) out = out.replace(URL_RE, '[url]').replace(HOST_PORT_RE, '[host]');
  return out.slice(0, 200);
}

/** Removes credentials from every string of a details object (nested objects and arrays included). */
export function scrubDetails(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (v === undefined || typeof v === 'function') continue;
    out[k] = scrubValue(v);
  }
  return out;
}

function scrubValue(v: unknown): unknown {
  if (typeof v === 'string')
    return v.replace(URL_WITH_CREDENTIALS, '$1').replace(PASSWORD_RE, '$1=[redacted]');
  if (Array.isArray(v)) return v.map(scrubValue);
  if (v instanceof Error) return undefined;
  if (v !== null && typeof v === 'object') return scrubDetails(v as Record<string, unknown>);
  return v;
}

const CODE_MESSAGES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  // PostgreSQL SQLSTATE
  '28P01': 'authentication failed',
  '28000': 'authorization failed',
  '3D000': 'database does not exist',
  '53300': 'too many connections',
  '57P01': 'server shutting down',
  '57P03': 'server not accepting connections',
  '57014': 'query canceled',
};

/**
 * A short public reason for an error, from its code only: messages of driver errors often contain
 * hosts, users or connection strings, so they go to the logger, not to responses.
 */
export function publicReason(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown } | undefined;
  if (e && typeof e === 'object') {
    if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'timed out';
    if (typeof e.code === 'string' && CODE_MESSAGES[e.code]) return CODE_MESSAGES[e.code]!;
    // AggregateError from net's happy eyeballs, fetch's TypeError with a cause
    if (Array.isArray(e.errors) && e.errors.length > 0) return publicReason(e.errors[0]);
    if (e.cause) return publicReason(e.cause);
    if (typeof e.code === 'string' && /^[A-Z0-9_]{2,40}$/.test(e.code)) return `error ${e.code}`;
  }
  return 'check failed (details in the logs)';
}

/** Milliseconds, rounded to 0.1. */
export const roundMs = (ms: number): number => Math.round(ms * 10) / 10;

/** `HH:MM:SS` (hours may exceed 24). */
export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}
