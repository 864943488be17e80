// useMutation as every screen uses it: TanStack's, but always running the latest render's functions,
// and never twice at once.
import { useMutation as useQueryMutation, type DefaultError, type UseMutationOptions, type UseMutationResult } from '@tanstack/preact-query';
import { useMemo, useRef } from 'preact/hooks';
import { newIdempotencyKey } from './api.ts';

/**
 * TanStack's hook hands its observer a render's options in an effect, after the browser paints. A
 * submit within a frame of the last keystroke (a card reader's or a scanner's Enter) ran the render
 * before, with the field's value short of its last character. Here the mutation calls whatever the
 * latest render gave, which Preact renders before the next event.
 *
 * For the same reason a button disabled by `isPending` is still enabled for a double-click's second
 * click: that sent a referral (which has no idempotency key) twice. `mutate` while a run is under way
 * does nothing, decided at the click, not at the next render.
 */
export function useMutation<TData = unknown, TError = DefaultError, TVariables = void, TContext = unknown>(
  options: UseMutationOptions<TData, TError, TVariables, TContext>,
): UseMutationResult<TData, TError, TVariables, TContext> {
  const latest = useRef(options);
  latest.current = options;
  const running = useRef(false);
  const m = useQueryMutation<TData, TError, TVariables, TContext>({
    ...options,
    mutationFn: (...args) => latest.current.mutationFn!(...args),
    onMutate: (...args) => latest.current.onMutate?.(...args) as TContext | Promise<TContext>,
    onSuccess: (...args) => latest.current.onSuccess?.(...args),
    onError: (...args) => latest.current.onError?.(...args),
    onSettled: (...args) => {
      running.current = false;
      return latest.current.onSettled?.(...args);
    },
  });
  const mutate = ((...args: Parameters<typeof m.mutate>) => {
    if (running.current) return;
    running.current = true;
    m.mutate(...args);
  }) as typeof m.mutate;
  return { ...m, mutate };
}

/**
 * The Idempotency-Key of an attempt: the same while the form is what it was (a retry after a lost
 * answer, a second click), a new one once it changes. Of a retry the API then makes one object, not
 * two (a referral, a prescription), and answers with the first.
 */
export function useAttemptKey(prefix: string, form: unknown): string {
  return useMemo(() => newIdempotencyKey(prefix), [JSON.stringify(form)]);
}
