import { describe, expect, it } from 'vitest';
import { newId, ulid } from '../../functions/shared/ids.ts';

describe('ids', () => {
  it('sort by creation, also within one millisecond and with a clock that steps back', () => {
    const t = Date.UTC(2026, 10, 23, 8, 0, 0);
    const ids = [ulid(t), ulid(t), ulid(t), ulid(t + 1), ulid(t), ulid(t + 5)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('are 26 lower-case base32 characters after the prefix', () => {
    expect(newId('stl')).toMatch(/^stl_[0-9a-hjkmnp-tv-z]{26}$/);
  });
});
