// Small building blocks every desk uses: labelled fields with their errors, status badges, money,
// alerts, count tabs. Accessible names come from visible labels.
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { yuan } from '../lib/format.ts';
import type { FieldErrors } from '../lib/forms.ts';

export function Field(props: { label: string; error?: string; hint?: string; children: (id: string, describedBy: string | undefined) => JSX.Element; wide?: boolean; narrow?: boolean }) {
  const id = useId();
  const describedBy = [props.error ? `${id}-error` : '', props.hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  // A refused submit takes the keyboard to the first field it names (read with its message), not
  // left on the button with the reasons somewhere above or below.
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const form = box.current?.closest('form');
    if (props.error && form?.querySelector('.field.invalid') === box.current) box.current?.querySelector<HTMLElement>('input, select, textarea')?.focus();
  }, [props.error]);
  return (
    <div ref={box} class={`field${props.error ? ' invalid' : ''}${props.wide ? ' wide' : ''}${props.narrow ? ' narrow' : ''}`}>
      <label for={id}>{props.label}</label>
      {props.children(id, describedBy)}
      {props.hint && <small id={`${id}-hint`} class="hint">{props.hint}</small>}
      {props.error && <small id={`${id}-error`} class="error">{props.error}</small>}
    </div>
  );
}

/** Errors that belong to no field (a refused move, a conflict, the network). */
export function FormError({ errors }: { errors: FieldErrors }) {
  return errors[''] ? <p class="alert error" role="alert">{errors['']}</p> : null;
}

/**
 * A refusal said above what it is about, kept until dismissed: when someone else moved the object
 * first (412 on a stale view, 409), the screen reloads it and the form that failed may be gone.
 */
export function Notice({ text, onDismiss }: { text?: string; onDismiss: () => void }) {
  return text ? <p class="alert error" role="alert">{text} <button type="button" class="link" onClick={onDismiss}>知道了</button></p> : null;
}

export function Alert(props: { kind?: 'error' | 'ok' | 'info'; children: ComponentChildren }) {
  return <p class={`alert ${props.kind ?? 'info'}`} role={props.kind === 'error' ? 'alert' : 'status'}>{props.children}</p>;
}

export const Money = ({ fen, strong }: { fen: number; strong?: boolean }) => (strong ? <strong class="money">{yuan(fen)}</strong> : <span class="money">{yuan(fen)}</span>);

export const Badge = (props: { tone?: string; children: ComponentChildren }) => <span class={`badge ${props.tone ?? ''}`}>{props.children}</span>;

/** Status tabs with counts: one button per status, the current one pressed. */
export function CountTabs<K extends string>(props: { label: string; items: ReadonlyArray<{ key: K; label: string; count?: number | string }>; current: K; onSelect: (k: K) => void }) {
  return (
    <div class="tabs" role="group" aria-label={props.label}>
      {props.items.map((i) => (
        <button type="button" key={i.key} aria-pressed={props.current === i.key} onClick={() => props.onSelect(i.key)}>
          {i.label}
          {i.count !== undefined && <span class="count">{i.count}</span>}
        </button>
      ))}
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return <p class="muted" role="status">正在加载{what ?? ''}…</p>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** Puts the keyboard (and a screen reader) on the screen's title: a new screen, or new content in place of the old. */
export const focusTitle = () => document.querySelector<HTMLElement>('main h1')?.focus();

/** The screen's title; focused on navigation so keyboard users start at the top of the new screen. */
export function Title(props: { children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <div class="title">
      <h1 tabIndex={-1}>{props.children}</h1>
      {props.actions && <div class="title-actions">{props.actions}</div>}
    </div>
  );
}
