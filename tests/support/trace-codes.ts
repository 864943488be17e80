// Drug trace codes for test purchases: 20 digits starting with 8, random, so codes never repeat
// within a run (one code, one sale in the province).
import { createHash, randomInt } from 'node:crypto';

export const traceCode = () => `8${Array.from({ length: 19 }, () => randomInt(10)).join('')}`;
export const traceCodes = (n: number) => Array.from({ length: n }, traceCode);

/** The item with a trace code scanned from every pack (what the insurance pays for where codes are required). */
export const traced = <T extends { quantity: number }>(item: T) => ({ ...item, traceCodes: traceCodes(item.quantity) });

/** The same codes for the same seed: a request sent again (an Idempotency-Key retry) carries the same ones. */
export function seededTraceCodes(seed: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const digits = BigInt(`0x${createHash('sha256').update(`${seed}#${i}`).digest('hex').slice(0, 16)}`).toString().padStart(19, '0').slice(-19);
    return `8${digits}`;
  });
}
