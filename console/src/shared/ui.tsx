// Small building blocks every desk uses: labelled fields with their errors, status badges, money,
// alerts, count tabs. Accessible names come from visible labels.
import { cloneElement, type ComponentChildren, type JSX, type RefObject } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError, outcomeUnknown } from '../lib/api.ts';
import { dateTimeSeconds, yuan } from '../lib/format.ts';
import type { FieldErrors } from '../lib/forms.ts';

// Set by a submit, cleared by the next edit (or screen): only a refused submit takes the keyboard to a
// field. An error set while the user edits (a department cleared as they arrow through hospitals)
// is said in its field, and the keyboard stays where they are.
let submitted = false;
// Submits of each form: a second refusal in the same words is told from a render for another reason,
// and one form's submit (a card's 拒绝) leaves another form's fields as they were.
const submitsOf = new WeakMap<EventTarget, number>();
if (typeof document !== 'undefined') {
  document.addEventListener('submit', (e) => {
    submitted = true;
    if (e.target) submitsOf.set(e.target, (submitsOf.get(e.target) ?? 0) + 1);
  }, true);
  for (const type of ['input', 'change']) document.addEventListener(type, () => { submitted = false; }, true);
  addEventListener('hashchange', () => { submitted = false; });
}

/**
 * A labelled control with its hint and error. Forms clear their errors when they send (a refusal
 * says them again), so an error shown is always the last submit's.
 */
export function Field(props: { label: string; error?: string; hint?: string; children: (id: string, describedBy: string | undefined) => JSX.Element; wide?: boolean; narrow?: boolean }) {
  const id = useId();
  const box = useRef<HTMLDivElement>(null);
  const form = () => box.current?.closest('form') ?? undefined;
  const submitsOfForm = () => { const f = form(); return f ? submitsOf.get(f) ?? 0 : 0; };
  const submits = submitsOfForm();
  // Changed since the submit that said its error: that error is about a value no longer there, and
  // goes (the mark too) until its form's next submit, or until the error changes (said anew).
  const edited = useRef<{ error: string; submits: number }>();
  const said = useRef(props.error);
  if (said.current !== props.error) {
    said.current = props.error;
    edited.current = undefined;
  }
  const [, rerender] = useState(0);
  const error = props.error && !(edited.current?.error === props.error && edited.current.submits === submits) ? props.error : undefined;
  const describedBy = [error ? `${id}-error` : '', props.hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  // A refused submit takes the keyboard to the first control it marks (read with its message), not
  // left on the button with the reasons somewhere above or below; a second refusal too.
  useEffect(() => {
    if (!error || !submitted) return;
    const first = form()?.querySelector<HTMLElement>('[aria-invalid="true"]');
    if (!first) return;
    submitted = false;
    first.focus();
  }, [error, submits]);
  const onInput = () => {
    if (!error) return;
    edited.current = { error, submits: submitsOfForm() };
    rerender((n) => n + 1);
  };
  // Marked here, so that no form can forget to mark a field it says is wrong.
  const control = cloneElement(props.children(id, describedBy), { 'aria-invalid': error ? 'true' : undefined });
  return (
    <div ref={box} class={`field${error ? ' invalid' : ''}${props.wide ? ' wide' : ''}${props.narrow ? ' narrow' : ''}`} onInput={onInput}>
      <label for={id}>{props.label}</label>
      {control}
      {props.hint && <small id={`${id}-hint`} class="hint">{props.hint}</small>}
      {error && <small id={`${id}-error`} class="error">{error}</small>}
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
 * `focus`: the keyboard goes to it as it is said (the button pressed went with its form), unless
 * the screen places it itself. 知道了 takes it away, and the keyboard to the screen's title.
 */
export function Notice({ text, onDismiss, focus }: { text?: string; onDismiss: () => void; focus?: boolean }) {
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (text && focus) ref.current?.focus();
  }, [text]);
  if (!text) return null;
  return (
    <p ref={ref} class="alert error" role="alert" tabIndex={focus ? -1 : undefined}>
      {text} <button type="button" class="link" onClick={() => { onDismiss(); focusTitle(); }}>知道了</button>
    </p>
  );
}

/**
 * `focus`: a result shown where the control pressed was (gone now): the keyboard goes to it, and it is read.
 * `said`: a result shown away from the keyboard (a form saved, a file read): read out through the
 * shell's live region (a region inserted with its text is not read), as it first shows, whenever its
 * words change, and whenever `said` is a new value (the same file picked again: the same words).
 * It is then no live region itself, or it would be read twice.
 */
export function Alert(props: { kind?: 'error' | 'ok' | 'info'; focus?: boolean; said?: unknown; children: ComponentChildren }) {
  const ref = useRef<HTMLParagraphElement>(null);
  const last = useRef<{ text: string; said: unknown }>();
  useEffect(() => {
    if (props.focus) ref.current?.focus();
  }, []);
  useEffect(() => {
    const text = ref.current?.textContent ?? '';
    if (props.said && (text !== last.current?.text || props.said !== last.current.said)) announce(text);
    last.current = { text, said: props.said };
  });
  const role = props.said ? undefined : props.kind === 'error' ? 'alert' : 'status';
  return <p ref={ref} class={`alert ${props.kind ?? 'info'}`} role={role} tabIndex={props.focus ? -1 : undefined}>{props.children}</p>;
}

/** A failure that passes: the network, a 5xx, a throttled (429) or timed-out (408) request. */
const passing = (err: unknown) => outcomeUnknown(err) || (err instanceof ApiError && (err.status === 429 || err.status === 408));

/**
 * What a query last read, kept through a refresh that failed for a passing reason: a blip (or the
 * API throttling the polls) does not take away the screen, nor a form half filled in on it. A
 * refusal (403, 404: no longer ours to see) does. `undefined`: show the error instead.
 */
export function kept<T>(q: { data: T | undefined; error: unknown }): T | undefined {
  return q.error && !passing(q.error) ? undefined : q.data;
}

/** Why a refresh failed, in a few words: the note is not a request to do anything. */
function whyUnread(err: unknown): string {
  if (!(err instanceof ApiError) || err.status === 0) return '网络异常';
  if (err.status === 429) return '请求过于频繁';
  if (err.status === 408 || err.status === 504) return '服务器响应超时';
  return `服务暂时不可用，${err.status}`;
}

/**
 * Said above what {@link kept} shows (and to a screen reader, once): that it may be out of date,
 * since when, and what comes next (`then`: a screen that does not poll says how to ask again).
 */
export function RefreshFailed({ q, then = '稍后将自动重试' }: { q: { data: unknown; error: unknown; dataUpdatedAt: number }; then?: string }) {
  if (!q.error || kept(q) === undefined) return null;
  return <Alert said>暂时无法刷新（{whyUnread(q.error)}），以下为 {dateTimeSeconds(new Date(q.dataUpdatedAt).toISOString())} 的内容，{then}。</Alert>;
}

/**
 * 复制 of a text shown beside it (`shown`), saying that it copied. Where the browser gives no
 * clipboard (an address without https) or refuses, the text is selected for Ctrl+C, and that is said.
 */
export function CopyButton({ text, label, shown }: { text: string; label: string; shown: () => HTMLElement | null | undefined }) {
  const [said, setSaid] = useState<string>();
  // Another text (a secret changed again): not copied yet.
  useEffect(() => setSaid(undefined), [text]);
  const copy = async () => {
    let words = '已复制';
    try {
      if (!navigator.clipboard) throw new Error('no clipboard here');
      await navigator.clipboard.writeText(text);
    } catch {
      const el = shown();
      if (el instanceof HTMLTextAreaElement || el instanceof HTMLInputElement) el.select();
      else if (el) {
        const range = document.createRange();
        range.selectNodeContents(el);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(range);
      }
      words = '浏览器未允许自动复制：已选中，请按 Ctrl+C 复制';
    }
    setSaid(words);
    announce(words);
  };
  return <><button type="button" onClick={() => void copy()}>{label}</button>{said && <small class="muted"> {said}</small>}</>;
}

/**
 * The shell's one polite live region (App), on the page from the start: text put into a region that
 * is already there is read, unlike a message inserted with its region.
 */
export const Announcer = () => <div id="announcer" class="sr-only" aria-live="polite" aria-atomic="true" />;

/** Says a result to a screen reader where the keyboard stays put (the button pressed, a scanner's input). */
export function announce(text: string) {
  const region = document.getElementById('announcer');
  if (!region) return;
  // Emptied first, so that the same words twice (a second notice) are read again.
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 100);
}

/**
 * Puts the keyboard on what `find` returns once it is on the page (new data renders a frame or a
 * fetch later), trying for about a second: the control pressed has gone with what it acted on.
 */
export function focusWhenShown(find: () => HTMLElement | null | undefined, tries = 60) {
  const el = find();
  if (el) el.focus();
  else if (tries > 0) requestAnimationFrame(() => focusWhenShown(find, tries - 1));
}

/**
 * A form a button opens in place takes the keyboard (its first control): from the button, Tab would
 * reach the other buttons first. Closed, the keyboard goes to `opener` when given (the triage
 * panel's 拒绝, swapped out while its form shows). `toggled()` with the click; a form a draft
 * reopens on load leaves the keyboard where it is.
 */
export function useOpenedForm(open: unknown, opener?: RefObject<HTMLElement>) {
  const form = useRef<HTMLFormElement>(null);
  const clicked = useRef(false);
  useEffect(() => {
    if (!clicked.current) return;
    clicked.current = false;
    if (open) form.current?.querySelector<HTMLElement>('input[type="radio"]:checked, input:not([type="radio"]), textarea, select')?.focus();
    else opener?.current?.focus();
  }, [open]);
  return { form, toggled: () => { clicked.current = true; } };
}

/**
 * Escape in a form that a button opened in place (拒绝, 改派, 转为转诊) closes it, as that button or
 * 返回 would, and the keyboard goes back to the button (its aria-expanded one, when it stays). What
 * was typed is kept, as 返回 keeps it. Not while its request is under way, and not while an input
 * method is composing (there Escape drops the pinyin typed so far).
 */
export const closesOnEscape = (close: () => void, busy = false) => (e: KeyboardEvent) => {
  if (e.key !== 'Escape' || e.isComposing || e.keyCode === 229 || busy) return;
  e.preventDefault();
  const opener = (e.currentTarget as HTMLElement).parentElement?.querySelector<HTMLElement>('[aria-expanded="true"]');
  close();
  opener?.focus();
};

/** A table that may be wider than the screen (200% zoom, a tablet) scrolls in its own box, which the keyboard can reach, not the page. */
export const Scroll = (props: { label: string; children: ComponentChildren }) => (
  <div class="scroll" role="region" aria-label={props.label} tabIndex={0}>{props.children}</div>
);

export const Money = ({ fen, strong }: { fen: number; strong?: boolean }) => (strong ? <strong class="money">{yuan(fen)}</strong> : <span class="money">{yuan(fen)}</span>);

export const Badge = (props: { tone?: string; children: ComponentChildren }) => <span class={`badge ${props.tone ?? ''}`}>{props.children}</span>;

export interface Listing { items: readonly unknown[]; nextToken?: string }

/** A list's length as a tab says it: 200+ when there are more pages. */
export const countOf = (data: Listing | undefined) => (data ? `${data.items.length}${data.nextToken ? '+' : ''}` : undefined);

/** A tab's count, and whether it is the one from before a refresh that failed (see {@link kept}). */
export interface TabCount { n: string; stale: boolean }
export function tabCount(q: { data: Listing | undefined; error: unknown } | undefined): TabCount | undefined {
  const n = q && countOf(kept(q));
  return n === undefined ? undefined : { n, stale: !!q!.error };
}

/**
 * A count, `before` it what it counts. One that could not be read again is shown hollow and named
 * as such: a nurse does not take 待接收 0 from before a failure for "nothing is waiting".
 */
export const Count = ({ c, before = '' }: { c: TabCount; before?: string }) => (
  <><span class={c.stale ? 'count stale' : 'count'} title={c.stale ? '未能刷新，为此前的数量' : undefined}>{before}{c.n}</span>{c.stale && <span class="sr-only">（未能刷新）</span>}</>
);

/** Said after a sentence whose numbers could not be read again, as {@link Count} is for one count. */
export const staleNote = (qs: ReadonlyArray<{ error: unknown } | undefined>) => (qs.some((q) => q?.error) ? '（暂时无法刷新，为此前的数量）' : '');

/** Status tabs with counts ({@link Count}): one button per status, the current one pressed. */
export function CountTabs<K extends string>(props: { label: string; items: ReadonlyArray<{ key: K; label: string; count?: TabCount }>; current: K; onSelect: (k: K) => void }) {
  return (
    <div class="tabs" role="group" aria-label={props.label}>
      {props.items.map((i) => (
        <button type="button" key={i.key} aria-pressed={props.current === i.key} onClick={() => props.onSelect(i.key)}>
          {i.label}
          {/* A space, so that the name is "待接收 3", not "待接收3". */}
          {i.count && <>{' '}<Count c={i.count} /></>}
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

/**
 * The screen's title; focused on navigation so keyboard users start at the top of the new screen. The
 * tab's title follows it, or `tab` where the heading names a patient: browsers keep tab titles in
 * their history, which outlives logging out on a shared workstation.
 */
export function Title(props: { children: ComponentChildren; actions?: ComponentChildren; tab?: string }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.tab ?? h1.current?.textContent?.trim()} · 医联体工作台`;
    return () => { document.title = '医联体工作台'; };
  });
  return (
    <div class="title">
      <h1 ref={h1} tabIndex={-1}>{props.children}</h1>
      {props.actions && <div class="title-actions">{props.actions}</div>}
    </div>
  );
}
