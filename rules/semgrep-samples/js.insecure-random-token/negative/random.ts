import { randomUUID, randomBytes } from "node:crypto";

export function jitter(ms: number): number {
  // ok: js.insecure-random-token
  const delay = ms * (0.5 + Math.random());
  return delay;
}

export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    // ok: js.insecure-random-token
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

// ok: js.insecure-random-token
export const sessionToken = randomBytes(32).toString("hex");
// ok: js.insecure-random-token
export const requestId = randomUUID();

// Jitter, timeouts and counts named after what they delay or measure are not tokens.
export function scheduleRefresh(expiresInMs: number): number {
  // ok: js.insecure-random-token
  const sessionTimeoutMs = expiresInMs + Math.floor(Math.random() * 5000);
  // ok: js.insecure-random-token
  const token_refresh_jitter = Math.random() * 250;
  return sessionTimeoutMs + token_refresh_jitter;
}

// ok: js.insecure-random-token
export const authRetryDelay = (attempt: number) => 2 ** attempt * 100 * Math.random();
