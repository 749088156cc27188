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
