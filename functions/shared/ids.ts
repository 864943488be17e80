// Server-chosen ids: a type prefix plus a ULID (time-ordered, so ids sort by creation). Within one
// millisecond the random part counts up (monotonic ULID), so the events of one transaction sort in
// the order they were created.
import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

let lastTime = -1;
let lastRandom: number[] = [];

function randomDigits(): number[] {
  const bytes = randomBytes(16);
  return Array.from(bytes, (b) => b % 32);
}

function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 31) {
      next[i]!++;
      return next;
    }
    next[i] = 0;
  }
  return randomDigits(); // 80 bits wrapped within one millisecond: not going to happen
}

export function ulid(now = Date.now()): string {
  const t = Math.max(now, lastTime);
  lastRandom = t === lastTime ? increment(lastRandom) : randomDigits();
  lastTime = t;
  let time = '';
  let rest = t;
  for (let i = 0; i < 10; i++) {
    time = alphabet[rest % 32]! + time;
    rest = Math.floor(rest / 32);
  }
  return time + lastRandom.map((d) => alphabet[d]).join('');
}

export const newId = (prefix: string, now?: number) => `${prefix}_${ulid(now)}`;
