// Server-chosen ids: a type prefix plus a ULID (time-ordered, so ids sort by creation). Within one
// millisecond the random part counts up (monotonic ULID), so the events of one transaction sort in
// the order they were created. The time part is always this machine's clock, never a time taken
// from input (a request, or a scheduled event's `time`): one run "as of 2099" would otherwise hold
// every later id in 2099, since the clock never steps back.
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

export function ulid(): string {
  const t = Math.max(Date.now(), lastTime);
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

export const newId = (prefix: string) => `${prefix}_${ulid()}`;

/** The millisecond an id was made (its ULID time part). */
export function idTime(id: string): number {
  const time = id.slice(id.lastIndexOf('_') + 1, id.lastIndexOf('_') + 11);
  return [...time].reduce((t, c) => t * 32 + alphabet.indexOf(c), 0);
}
