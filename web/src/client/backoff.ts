//! Reconnect delays: "full jitter" exponential backoff (a uniformly random delay between zero and an
//! exponentially growing, capped ceiling), so that clients cut off together do not come back together; and
//! "equal jitter" (at least half that ceiling), where each wait must be longer than the one before (up to the cap).

/** Backoff settings, in milliseconds. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay. */
  baseMs: number;
  /** The ceiling never grows past this. */
  capMs: number;
}

/** The delay before retry number `attempt` (0 for the first): uniform in [0, min(cap, base * 2^attempt)). */
export function fullJitter(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * The delay before retry number `attempt` when waiting is the point (renewing a token that still works): at
 * least half the ceiling, so that each wait is longer than the last until the cap: uniform in [ceiling / 2, ceiling).
 */
export function equalJitter(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(ceiling / 2 + (random() * ceiling) / 2);
}
