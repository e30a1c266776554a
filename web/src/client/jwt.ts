//! Reads the claims the client needs (`sub`, `exp`) from a JWT without verifying it: the server verifies;
//! the client only wants to know who it is and when to fetch a fresh token.

/** The claims the client uses. */
export interface TokenClaims {
  /** The user id (`sub`). */
  sub?: string;
  /** Expiry, epoch milliseconds (from `exp`, seconds). */
  expiresAt?: number;
}

/** Decodes a JWT's payload (base64url JSON); `{}` for anything that is not one. */
export function readClaims(token: string): TokenClaims {
  const part = token.split(".")[1];
  if (!part) return {};
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const json: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    if (typeof json !== "object" || json === null) return {};
    const { sub, exp } = json as { sub?: unknown; exp?: unknown };
    const claims: TokenClaims = {};
    if (typeof sub === "string") claims.sub = sub;
    if (typeof exp === "number" && Number.isFinite(exp)) claims.expiresAt = exp * 1000;
    return claims;
  } catch {
    return {};
  }
}
