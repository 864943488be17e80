import { describe, expect, it, vi } from 'vitest';
import { cached } from '../../functions/shared/cache.ts';

describe('cached', () => {
  it('shares one load per key until the TTL passes', async () => {
    vi.useFakeTimers();
    const load = vi.fn(async (k: string) => `${k}!`);
    const get = cached(1_000, load);
    expect(await Promise.all([get('a'), get('a'), get('b')])).toEqual(['a!', 'a!', 'b!']);
    expect(load).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(1_001);
    await get('a');
    expect(load).toHaveBeenCalledTimes(3);
    vi.useRealTimers();
  });

  it('does not keep a failed load', async () => {
    let fail = true;
    const get = cached(Number.POSITIVE_INFINITY, async () => {
      if (fail) throw new Error('down');
      return 'up';
    });
    await expect(get('k')).rejects.toThrow('down');
    fail = false;
    expect(await get('k')).toBe('up');
  });

  it('forget drops one key only: its next caller loads it afresh', async () => {
    let version = 1;
    const load = vi.fn(async (k: string) => `${k}${version}`);
    const get = cached(Number.POSITIVE_INFINITY, load);
    await Promise.all([get('a'), get('b')]);
    version = 2;
    get.forget('a');
    expect(await Promise.all([get('a'), get('b')])).toEqual(['a2', 'b1']);
    expect(load).toHaveBeenCalledTimes(3);
  });
});
