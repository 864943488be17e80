// Server-chosen ids: a type prefix plus a ULID (time-ordered, so ids sort by creation).
import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

export function ulid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += alphabet[bytes[i]! % 32];
  return time + rand;
}

export const newId = (prefix: string, now?: number) => `${prefix}_${ulid(now)}`;
