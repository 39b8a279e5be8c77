import type { AutocannonRequest } from 'autocannon';

/**
 * The request mix every connection cycles through: three small JSON routes (one nested deeper, all
 * under an `/api` router or prefix, with a path parameter) and two 404s (a scanner-like path and an
 * unknown API path), so 20% of the traffic is unmatched.
 */
export const REQUESTS: AutocannonRequest[] = [
  { method: 'GET', path: '/api/bot/1' },
  { method: 'GET', path: '/api/bot/2/status' },
  { method: 'GET', path: '/api/bots' },
  { method: 'GET', path: '/wp-login.php' },
  { method: 'GET', path: '/api/bot/3' },
  { method: 'GET', path: '/api/bot/4/status' },
  { method: 'GET', path: '/api/bot/5' },
  { method: 'GET', path: '/api/nope/6' },
  { method: 'GET', path: '/api/bots' },
  { method: 'GET', path: '/api/bot/7' },
];

/** Route templates the instrumented variants must report (checked after each run). */
export const ROUTE_TEMPLATES = ['/api/bot/:id', '/api/bot/:id/status', '/api/bots'] as const;
