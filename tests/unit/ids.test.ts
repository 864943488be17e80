import { afterEach, describe, expect, it, vi } from 'vitest';
import { idTime, newId } from '../../functions/shared/ids.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('ids', () => {
  it('sort by creation, also within one millisecond and with a clock that steps back', async () => {
    // A module instance of its own: this test moves its clock to 2126.
    vi.resetModules();
    const { ulid } = await import('../../functions/shared/ids.ts');
    const t = Date.UTC(2126, 10, 23, 8, 0, 0);
    vi.useFakeTimers({ toFake: ['Date'] });
    const at = (ms: number) => (vi.setSystemTime(ms), ulid());
    const ids = [at(t), at(t), at(t), at(t + 1), at(t), at(t + 5)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('are 26 lower-case base32 characters after the prefix, and carry the time they were made', () => {
    const before = Date.now();
    const id = newId('stl');
    expect(id).toMatch(/^stl_[0-9a-hjkmnp-tv-z]{26}$/);
    expect(idTime(id)).toBeGreaterThanOrEqual(before);
    expect(idTime(id)).toBeLessThanOrEqual(Date.now());
  });
});
