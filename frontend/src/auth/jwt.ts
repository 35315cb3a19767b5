/**
 * Minimal JWT helpers. The browser never verifies signatures; it only reads
 * `exp` to decide when to refresh the access token.
 */

/** Refresh this long before the access token expires. */
export const REFRESH_LEAD_MS = 60_000;
/** Never schedule refreshes closer together than this (guards very short tokens). */
export const MIN_REFRESH_DELAY_MS = 5_000;
/** setTimeout overflows above 2^31-1 ms (~24.8 days). */
const MAX_TIMEOUT_MS = 2_147_483_647;

function base64UrlDecode(segment: string): string {
  let b64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  const pad = b64.length % 4;
  if (pad === 1) throw new Error("invalid base64url length");
  if (pad) b64 += "=".repeat(4 - pad);
  const binary = atob(b64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Decode a JWT's payload without verifying it. Returns null if malformed. */
export function decodeJwtPayload(token: string): Record<string, unknown> | null {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const payload: unknown = JSON.parse(base64UrlDecode(parts[1]));
    return payload && typeof payload === "object" && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** The token's expiry as epoch milliseconds, or null if absent/malformed. */
export function getTokenExpiry(token: string): number | null {
  const exp = decodeJwtPayload(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : null;
}

export function isTokenExpired(token: string, now: number = Date.now()): boolean {
  const expiry = getTokenExpiry(token);
  return expiry !== null && expiry <= now;
}

/**
 * Milliseconds from `now` until the access token should be refreshed, or
 * null if the token carries no usable `exp` (then only 401-driven refresh applies).
 *
 * Normally `exp - lead - now`. If that is (nearly) past, refresh soon but not
 * in a tight loop: immediately when already expired, otherwise after
 * min(MIN_REFRESH_DELAY_MS, half the remaining lifetime).
 */
export function computeRefreshDelay(
  accessToken: string,
  now: number = Date.now(),
  leadMs: number = REFRESH_LEAD_MS,
): number | null {
  const expiry = getTokenExpiry(accessToken);
  if (expiry === null) return null;
  const remaining = expiry - now;
  if (remaining <= 0) return 0;
  const delay = remaining - leadMs;
  if (delay >= MIN_REFRESH_DELAY_MS) return Math.min(delay, MAX_TIMEOUT_MS);
  return Math.min(MIN_REFRESH_DELAY_MS, Math.floor(remaining / 2));
}

/**
 * Arrange for `refresh` to run ~60 s before `accessToken` expires.
 * Returns a cancel function. Does nothing if the token has no `exp`.
 */
export function scheduleRefresh(
  accessToken: string,
  refresh: () => void,
  options: { now?: number; leadMs?: number } = {},
): () => void {
  const delay = computeRefreshDelay(accessToken, options.now ?? Date.now(), options.leadMs);
  if (delay === null) return () => {};
  const id = setTimeout(refresh, delay);
  return () => clearTimeout(id);
}
