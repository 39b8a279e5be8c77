import { createHash, timingSafeEqual } from 'node:crypto';
import type { HealthRequest } from './types.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * A check of `Authorization: Bearer <token>` that takes the same time whatever the header holds:
 * both sides are hashed (SHA-256) and the digests compared with `timingSafeEqual`, so neither the
 * token's content nor its length shows in the time an answer takes. The scheme is matched
 * case-insensitively, as RFC 9110 says; a missing or repeated header never matches.
 */
export function bearerTokenMatcher(token: string): (req: HealthRequest) => boolean {
  const expected = sha256(token);
  return (req) => {
    const header = req.headers.authorization ?? req.headers.Authorization;
    if (typeof header !== 'string') return false;
    const space = header.indexOf(' ');
    const given = space < 0 ? '' : header.slice(space + 1).trim();
    // hashed and compared before the scheme is looked at: the time does not depend on either
    const same = timingSafeEqual(sha256(given), expected);
    return same && space > 0 && header.slice(0, space).toLowerCase() === 'bearer';
  };
}
