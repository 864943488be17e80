// useMutation as every screen uses it: TanStack's, but always running the latest render's functions.
import { useMutation as useQueryMutation, type DefaultError, type UseMutationOptions, type UseMutationResult } from '@tanstack/preact-query';
import { useRef } from 'preact/hooks';

/**
 * TanStack's hook hands its observer a render's options in an effect, after the browser paints. A
 * submit within a frame of the last keystroke (a card reader's or a scanner's Enter) ran the render
 * before, with the field's value short of its last character. Here the mutation calls whatever the
 * latest render gave, which Preact renders before the next event.
 */
export function useMutation<TData = unknown, TError = DefaultError, TVariables = void, TContext = unknown>(
  options: UseMutationOptions<TData, TError, TVariables, TContext>,
): UseMutationResult<TData, TError, TVariables, TContext> {
  const latest = useRef(options);
  latest.current = options;
  return useQueryMutation<TData, TError, TVariables, TContext>({
    ...options,
    mutationFn: (...args) => latest.current.mutationFn!(...args),
    onMutate: (...args) => latest.current.onMutate?.(...args) as TContext | Promise<TContext>,
    onSuccess: (...args) => latest.current.onSuccess?.(...args),
    onError: (...args) => latest.current.onError?.(...args),
    onSettled: (...args) => latest.current.onSettled?.(...args),
  });
}
