// Bounded parallelism in lanes (functions/shared/concurrency.ts): the router routes waiting
// prescriptions several at a time, those needing the same drug oldest first.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapInLanes } from '../../functions/shared/concurrency.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapInLanes', () => {
  it('runs items of a lane in order, never more than width at once, and items of other lanes alongside', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ lanes: fc.uniqueArray(fc.constantFrom('A', 'B', 'C', 'D'), { minLength: 1, maxLength: 2 }), ms: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 4 }),
        async (items, width) => {
          const log: Array<{ i: number; start: number; end: number }> = [];
          let clock = 0;
          let running = 0;
          let most = 0;
          const out = await mapInLanes(items.map((x, i) => ({ ...x, i })), width, (x) => x.lanes, async (x) => {
            const entry = { i: x.i, start: clock++, end: -1 };
            log.push(entry);
            most = Math.max(most, ++running);
            await pause(x.ms);
            running--;
            entry.end = clock++;
            return x.i * 10;
          });
          expect(out).toEqual(items.map((_, i) => i * 10));
          expect(most).toBeLessThanOrEqual(width);
          const at = new Map(log.map((e) => [e.i, e]));
          for (let j = 0; j < items.length; j++) {
            for (let i = 0; i < j; i++) {
              if (items[i]!.lanes.some((l) => items[j]!.lanes.includes(l))) expect(at.get(i)!.end).toBeLessThan(at.get(j)!.start);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('takes items of different lanes at once, up to width', async () => {
    let running = 0;
    let most = 0;
    await mapInLanes(['A', 'B', 'C', 'D', 'E'], 3, (l) => [l], async () => {
      most = Math.max(most, ++running);
      await pause(5);
      running--;
    });
    expect(most).toBe(3);
  });

  it('goes on with a lane after a failure, and throws the first failure once every item was tried', async () => {
    const ran: string[] = [];
    const run = mapInLanes(['a1', 'a2', 'b1', 'a3'], 2, (x) => [x[0]!], async (x) => {
      ran.push(x);
      if (x === 'a2' || x === 'a3') throw new Error(`${x} failed`);
      return x;
    });
    await expect(run).rejects.toThrow('a2 failed');
    expect(ran.sort()).toEqual(['a1', 'a2', 'a3', 'b1']);
  });
});
