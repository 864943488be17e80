// Problem bodies stay within the bounds the OpenAPI document states, however large the invalid request.
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { issuesToErrors } from '../../functions/shared/errors.ts';
import { problemBody, problemSchema } from '../../schemas/problems.ts';

describe('problem bodies', () => {
  it('a strict body with thousands of unknown keys gets at most 100 errors of bounded length', () => {
    const body = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${'x'.repeat(300)}${i}`, i]));
    const wide = z.object(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, z.string()]))).strict();
    const result = wide.safeParse(body);
    expect(result.success).toBe(false);
    const errors = issuesToErrors(result.error!.issues, 'body');
    expect(result.error!.issues.length).toBeGreaterThan(100);
    expect(errors).toHaveLength(100);
    const problem = problemBody('validation-failed', 'd'.repeat(10_000), errors);
    expect(problemSchema.safeParse(problem).success).toBe(true);
    expect(problem.detail).toHaveLength(2000);
    expect(problem.detail!.endsWith('…')).toBe(true);
    expect(JSON.stringify(problem).length).toBeLessThan(100 * 800 + 3000);
  });

  it('leaves ordinary problems as they are', () => {
    const errors = [{ path: 'body.items.0.quantity', message: 'Too big: expected number to be <=10000' }];
    expect(problemBody('validation-failed', 'the request is not valid', errors)).toEqual({
      type: 'https://consortium.example/problems/validation-failed',
      title: 'Request is not valid',
      status: 400,
      detail: 'the request is not valid',
      errors,
    });
  });
});
