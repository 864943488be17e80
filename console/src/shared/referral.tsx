// One referral as either party sees it: the summary, the history, and the moves the caller may make
// now, as the API says (`allowedActions`, from the one transition table). Each move names the
// version the user is looking at (If-Match); if someone else moved the referral since, the API
// refuses it (412) and the screen says so and shows the referral as it is now.
import { useQueries, useQuery, useQueryClient } from '@tanstack/preact-query';
import type { ComponentChildren } from 'preact';
import { useSyncExternalStore } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import { rejectReferralBody, type Referral, type ReferralAction, type ReferralStatus, type ReferralView } from '#schemas/referrals';
import { ApiError, call, etagOf, outcomeUnknown } from '../lib/api.ts';
import { currentSession } from '../lib/auth.ts';
import { useDraft, useSavedDraft } from '../lib/drafts.ts';
import { calendarDay, date, dateTime, instantOf, shortId, sortableDateTime } from '../lib/format.ts';
import { problemToFields, validate, type FieldErrors } from '../lib/forms.ts';
import { directionLabel, problemText, referralActionLabel as actionLabel, referralStatusLabel, urgencyLabel } from '../lib/labels.ts';
import { useMutation } from '../lib/mutation.ts';
import { poll } from '../lib/polling.ts';
import { rememberedPerson, type NamedPerson } from '../lib/people.ts';
import { useInstitution, useInstitutionName, useInstitutions } from './names.ts';
import { Alert, announce, Badge, closesOnEscape, countOf, Field, focusTitle, FormError, kept, Notice, staleNote, useOpenedForm } from './ui.tsx';

export const urgencyTone = { routine: '', urgent: 'warn', emergency: 'danger' } as const;

export type Box = 'incoming' | 'outgoing';

/** One query per list of one status; a tab's count is the same query, so the two never disagree. */
export const referralsQuery = (box: Box, status: ReferralStatus) => ({
  queryKey: ['referrals', box, status],
  queryFn: () => call('listReferrals', { query: { box, status, limit: 200 } }),
});


/**
 * Referrals this institution sent that the receiver refused or let lapse: the patient is still
 * waiting for a place, and nothing else tells the sender (they leave 待接收 quietly). Said where the
 * desk spends the day (the clinic's 接诊, the hospital's 转入工作台 for its 下转) until each is
 * rerouted or cancelled.
 */
export function StuckReferrals({ what, list }: { what: string; list: string }) {
  const [rejected, expired] = useQueries({ queries: (['rejected', 'expired'] as const).map((s) => ({ ...referralsQuery('outgoing', s), refetchInterval: poll(30_000) })) });
  const n = (q: typeof rejected) => (q && kept(q)?.items.length) ?? 0;
  if (!n(rejected) && !n(expired)) return null;
  const parts = [n(rejected) && `${countOf(rejected!.data)} 条被拒绝`, n(expired) && `${countOf(expired!.data)} 条接收超时`].filter(Boolean).join('、');
  const first = n(rejected) ? 'rejected' : 'expired';
  return <Alert kind="error">{what}有 {parts}，患者仍在等待：请改派或撤销。{staleNote([rejected, expired])} <a href={`${list}?status=${first}`}>查看</a></Alert>;
}

/** Why the receiver refused it, as its last rejection says: what the sender needs to reroute or tell the patient. */
export const rejectionReason = (r: Referral) => r.history.findLast((h) => h.status === 'rejected')?.reason ?? '—';

/**
 * The patient as the document names them (name and masked ID), else as this session looked them
 * up, else a short handle; `known` says whether anyone at this desk has seen who they are.
 */
export function usePatient(personId: string, named?: { name: string; nationalIdMasked: string }): { label: string; known: boolean } {
  const q = useQuery<NamedPerson | null>({ queryKey: ['person', personId], queryFn: () => rememberedPerson(personId) ?? null, staleTime: Infinity });
  const p = named ?? q.data;
  return { label: p ? `${p.name}（${p.nationalIdMasked}）` : `患者 ${shortId(personId)}`, known: !!p };
}

export const usePatientLabel = (personId: string, named?: { name: string; nationalIdMasked: string }) => usePatient(personId, named).label;

/**
 * A form for a patient nobody at this desk has looked up in this session (an old link, Back after
 * logging out): the doctor cannot tell whom it is for, so it is not sent until they are found on 接诊.
 */
export const UnknownPatient = () => (
  <p class="alert error" role="alert">未确认患者身份：请先在 <a href="#/clinic">接诊</a> 按身份证号查找患者，再填写本单。</p>
);

type WithDepartments = { id: string; name: string; departments?: Array<{ code: string; name: string; dailyCapacity: number }> };

/** The departments an institution takes referrals and questions in: a daily capacity of 0 is a department closed (referrals/domain.ts). */
export const openDepartments = (i: WithDepartments) => (i.departments ?? []).filter((d) => d.dailyCapacity > 0);

/** The departments offered when `to` is chosen among `designated` (none chosen: any of them), each once. */
export const departmentsFor = (designated: readonly WithDepartments[], to: string) =>
  [...new Map((to ? designated.filter((h) => h.id === to) : designated).flatMap(openDepartments).map((d) => [d.code, d])).values()];

/**
 * `to` chosen with `department` already picked: why the department no longer fits (the form clears
 * it and says so on its field), or undefined. Kept, it showed blank and the request came back as
 * 'no institution can take it', with no field marked.
 */
function departmentLost(designated: readonly WithDepartments[], to: string, department: string): string | undefined {
  if (!department || departmentsFor(designated, to).some((d) => d.code === department)) return undefined;
  const name = departmentsFor(designated, '').find((d) => d.code === department)?.name ?? department;
  return `${designated.find((h) => h.id === to)?.name ?? '该医院'}没有${name}，请重新选择科室`;
}

/** A form's hospital chosen (`to`, or '' for the platform's choice): set, and a department it does not take cleared, and said. */
export function chooseHospital(designated: readonly WithDepartments[], to: string, department: string, set: {
  to: (v: string) => void;
  department: (v: string) => void;
  errors: (update: (e: FieldErrors) => FieldErrors) => void;
}): void {
  set.to(to);
  const lost = departmentLost(designated, to, department);
  if (!lost) return;
  set.department('');
  set.errors((e) => ({ ...e, department: lost }));
}

export function useDepartmentName(institutionId: string, code: string): string {
  const inst = useInstitution(institutionId);
  return inst.data?.departments?.find((d) => d.code === code)?.name ?? code;
}

export function ReferralSummary({ r }: { r: Referral }) {
  const from = useInstitutionName(r.fromInstitutionId);
  const to = useInstitutionName(r.toInstitutionId);
  // The department is the receiving institution's, whichever the direction (a down referral's GP is the clinic's).
  const dept = useDepartmentName(r.toInstitutionId, r.department);
  const patient = usePatientLabel(r.personId, r.patient);
  return (
    <dl class="facts">
      <dt>转诊单号</dt><dd>{shortId(r.referralId)}</dd>
      <dt>患者</dt><dd>{patient}</dd>
      <dt>方向</dt><dd>{directionLabel[r.direction]}</dd>
      <dt>状态</dt><dd><Badge tone={`status-${r.status}`}>{referralStatusLabel[r.status]}</Badge></dd>
      <dt>紧急程度</dt><dd><Badge tone={urgencyTone[r.urgency]}>{urgencyLabel[r.urgency]}</Badge></dd>
      <dt>转出机构</dt><dd>{from}</dd>
      <dt>接收机构</dt><dd>{to}</dd>
      <dt>科室</dt><dd>{dept}</dd>
      <dt>诊断</dt><dd>{r.diagnoses.join('、')}</dd>
      <dt>转诊原因</dt><dd>{r.reason}</dd>
      {r.preferredDate && (<><dt>希望就诊日期</dt><dd>{date(r.preferredDate)}</dd></>)}
      {r.appointmentAt && (<><dt>预约时间</dt><dd>{dateTime(r.appointmentAt)}</dd></>)}
      {r.slaDueAt && (<><dt>接收时限</dt><dd>{dateTime(r.slaDueAt)}</dd></>)}
      {r.followUpPlan && (<><dt>随访计划</dt><dd>{r.followUpPlan}</dd></>)}
      {r.adviceId && (<><dt>来源咨询</dt><dd><a href={`#/${currentSession()?.role ?? 'clinic'}/advice/${r.adviceId}`}>{shortId(r.adviceId)}</a></dd></>)}
      <dt>提交时间</dt><dd>{dateTime(r.createdAt)}</dd>
    </dl>
  );
}

function HistoryRow({ h }: { h: Referral['history'][number] }) {
  const by = useInstitutionName(h.by);
  const to = useInstitutionName(h.toInstitutionId);
  return (
    <li>
      <time>{dateTime(h.at)}</time> <Badge tone={`status-${h.status}`}>{referralStatusLabel[h.status]}</Badge> {by}
      {h.toInstitutionId && h.status === 'submitted' && <> → {to}</>}
      {h.appointmentAt && <>，预约 {dateTime(h.appointmentAt)}</>}
      {h.reason && <>，原因：{h.reason}</>}
    </li>
  );
}

export function ReferralHistory({ r }: { r: Referral }) {
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">流转记录</h2>
      <ol class="history">{r.history.map((h, i) => <HistoryRow key={i} h={h} />)}</ol>
    </section>
  );
}

/**
 * Appointment picker: a day and a time in the province's time zone. Its forms do not let the browser
 * check them (novalidate): appointmentProblems says what is missing, in the field, as the API's refusals are.
 */
export function AppointmentFields(props: { day: string; time: string; onChange: (day: string, time: string) => void; errors: FieldErrors }) {
  return (
    <div class="row">
      <Field label="预约日期" error={props.errors.appointmentAt}>
        {(id, d) => <input id={id} type="date" value={props.day} min={calendarDay()} aria-describedby={d} onInput={(e) => props.onChange(e.currentTarget.value, props.time)} />}
      </Field>
      <Field label="预约时间" error={props.errors.appointmentTime}>
        {(id, d) => <input id={id} type="time" step={900} value={props.time} aria-describedby={d} onInput={(e) => props.onChange(props.day, e.currentTarget.value)} />}
      </Field>
    </div>
  );
}

/** What the appointment picked lacks, if anything: a picker left blank or half typed reads as ''. */
export function appointmentProblems(day: string, time: string): FieldErrors {
  return !day ? { appointmentAt: '请选择预约日期' } : !time ? { appointmentTime: '请选择预约时间' } : {};
}

/**
 * 接收 refused for want of a slot (409 conflict on capacity): said at the date, where another day can
 * be picked, and the form stays open. Not a referral someone else moved (the other 409s, and 412).
 */
export function capacityProblems(err: ApiError): FieldErrors | undefined {
  const detail = err.problem.detail ?? '';
  if (err.slug !== 'conflict' || !/capacity/.test(detail)) return undefined;
  return { appointmentAt: / left at .* on /.test(detail) ? '该日该科室号源已约满，请选择其他日期' : '该科室已无号源（每日号源为 0），不能接收' };
}

/** Where each move leaves a referral (the API's transition table, as far as a screen needs it). */
const movedTo: Record<ReferralAction, ReferralStatus> = { accept: 'accepted', reject: 'rejected', reroute: 'submitted', arrive: 'arrived', complete: 'completed', cancel: 'cancelled' };

/**
 * Whether this user moved the referral to `to` since `seen` (the version a screen showed): a move
 * whose answer was lost, made by the attempt the screen thinks failed. Moves since are those in
 * the history after what `seen` held (history only grows); `user` is the mover's token subject.
 */
export function ownMove(seen: Referral, now: Referral, to: ReferralStatus): boolean {
  const me = currentSession()?.sub;
  return !!me && now.history.slice(seen.history.length).some((h) => h.status === to && h.user === me);
}

/**
 * A retry refused as moved meanwhile (412, 409) when the referral could not be read, after it or
 * after the first attempt: this attempt was not made, but whether the first, its answer lost, made
 * the move cannot be told.
 */
export class UnconfirmedMove extends ApiError {}

/** What a screen says of an UnconfirmedMove, after naming the referral. */
export const unconfirmedMoveText = '已有变化，本次操作未执行；其当前状态无法读取，可能已被他人处理或撤销，或您此前的操作已生效，请稍后刷新核对。';

/** What this tab knows of her last move on a version of a referral: awaiting its answer, made, or in doubt. */
export interface OwnMove { action: ReferralAction; is: 'pending' | 'made' | 'unknown' }

/**
 * By the version each was made from (`id@version`): a later move, made from a later version, is
 * another. Kept for the tab's life (a few per triage), so a notice shown later still knows.
 */
const ownMoves = new Map<string, OwnMove>();
const listeners = new Set<() => void>();
function note(key: string, move: OwnMove | undefined) {
  // A move made on a version is the last on it: any other is refused as moved meanwhile.
  if (ownMoves.get(key)?.is === 'made') return;
  if (move) ownMoves.set(key, move);
  else ownMoves.delete(key);
  for (const heard of listeners) heard();
}
const moveKey = (r: Pick<ReferralView, 'referralId' | 'version'>) => `${r.referralId}@${r.version}`;
const subscribe = (heard: () => void) => {
  listeners.add(heard);
  return () => void listeners.delete(heard);
};

/** Her last move from this tab on this version of the referral, if any was sent and not refused. */
export function useOwnMove(r: Pick<ReferralView, 'referralId' | 'version'>): OwnMove | undefined {
  const key = moveKey(r);
  return useSyncExternalStore(subscribe, () => ownMoves.get(key));
}

/**
 * Sends a move on the version on screen. Its answer lost (the network, a 5xx), or a retry of it
 * refused as moved meanwhile (412, 409), the move may have been made by this user's first attempt:
 * then the referral as it is now is the answer. Otherwise a nurse's retry of 接收 after a dropped
 * answer was told 已被他人处理 of her own accept. A retry refused while the referral still cannot be
 * read is an UnconfirmedMove; a first attempt refused is what it says (nothing of hers is in doubt).
 */
export async function sendMove(r: ReferralView, action: ReferralAction, send: () => Promise<ReferralView>): Promise<ReferralView> {
  const key = moveKey(r);
  // An earlier press on this version whose outcome no read has told; a 拒绝's is kept over this one's.
  const before = ownMoves.get(key);
  const doubted = before?.is === 'unknown' ? before : undefined;
  const doubtedReject = doubted?.action === 'reject' ? doubted : undefined;
  note(key, { action, is: 'pending' });
  try {
    const next = await send();
    note(key, { action, is: 'made' });
    return next;
  } catch (err) {
    if (!(err instanceof ApiError) || capacityProblems(err) || !(outcomeUnknown(err) || err.status === 412 || err.status === 409)) {
      note(key, doubted);
      throw err;
    }
    // The referral as it is now; 'gone' when it left this institution, so before any 接收 or later
    // move of hers (never undone that way; a 拒绝 is, by the clinic's reroute, so a 404 after one
    // tells nothing); undefined when the read tells nothing (the network, a 5xx, a 429).
    let now: ReferralView | 'gone' | undefined;
    try {
      now = await call('getReferral', { params: { id: r.referralId } });
    } catch (readErr) {
      if (readErr instanceof ApiError && readErr.status === 404 && action !== 'reject') now = 'gone';
    }
    if (now && now !== 'gone' && ownMove(r, now, movedTo[action])) {
      note(key, { action, is: 'made' });
      return now;
    }
    // Moved by another: hers was not made. Gone: not this 接收, but an earlier 拒绝 in doubt may be
    // why (kept over a 接收 in doubt too, as only it makes a 404 tell nothing). Unchanged (a 5xx
    // may still be writing), or unread: it may be.
    if (now && now !== 'gone' && now.version !== r.version) note(key, undefined);
    else if (now === 'gone') note(key, doubtedReject);
    else if (outcomeUnknown(err)) note(key, doubtedReject ?? { action, is: 'unknown' });
    else note(key, doubted);
    if (!now && !outcomeUnknown(err) && doubted) throw new UnconfirmedMove(err.status, err.problem);
    throw err;
  }
}

/** What a rejection's reason lacks, if anything (blank), as the API would say it. */
export function rejectionProblems(reason: string): FieldErrors {
  const v = validate(rejectReferralBody, { reason });
  return v.ok ? {} : v.errors;
}

/**
 * The appointment the picker starts from: for an emergency the next quarter hour (the patient is on
 * the way), otherwise 09:00 on the day the clinic asked for, or tomorrow.
 */
export function proposedAppointment(r: Pick<Referral, 'urgency' | 'preferredDate'>, now = new Date()): { day: string; time: string } {
  if (r.urgency === 'emergency') {
    const [day, clock] = sortableDateTime(new Date(Math.ceil(now.getTime() / 900_000) * 900_000).toISOString()).split(' ');
    return { day: day!, time: clock!.slice(0, 5) };
  }
  const tomorrow = calendarDay(new Date(now.getTime() + 86_400_000));
  return { day: r.preferredDate && r.preferredDate > tomorrow ? r.preferredDate : tomorrow, time: '09:00' };
}

/** The moves the caller may make on this referral, each with what it needs (a reason, a time, a target). */
export function ReferralActions({ r, onDone, more }: { r: ReferralView; onDone?: (next: ReferralView, action: ReferralAction) => void; more?: ComponentChildren }) {
  const qc = useQueryClient();
  const actions = r.allowedActions;
  // A reason being typed (to reject) and the form it is in come back after F5, as other forms do.
  const draft = useSavedDraft<{ open?: ReferralAction; reason: string }>(`move-${r.referralId}`);
  const [open, setOpen] = useState<ReferralAction | undefined>(draft?.open && actions.includes(draft.open) ? draft.open : undefined);
  const [reason, setReason] = useState(draft?.reason ?? '');
  const [{ day, time }, setAppointment] = useState(() => proposedAppointment(r));
  const [target, setTarget] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [stale, setStale] = useState<string>();
  const hospitals = useInstitutions(r.direction === 'up' ? 'hospital' : 'clinic');
  // Where it may go instead: designated, with the referral's department (the API refuses any other,
  // and routes only among these), and not one that already refused it or has it now.
  const targets = (hospitals.data ?? []).filter((h) => h.designated && !r.rejectedBy.includes(h.id) && h.id !== r.toInstitutionId && openDepartments(h).some((d) => d.code === r.department));
  const departmentName = useDepartmentName(r.toInstitutionId, r.department);
  const kind = r.direction === 'up' ? '医院' : '社区卫生服务机构';
  const noTarget = !!hospitals.data && !targets.length;
  const patient = usePatientLabel(r.personId, r.patient);
  // A cancel cannot be undone: asked first, as the pharmacy's 冲正 is. The other one-click moves
  // (到诊, 完成诊疗) only record what happened.
  const confirmed = (a: ReferralAction) => !move.isPending && (a !== 'cancel' || confirm(`撤销转诊 ${shortId(r.referralId)}（${patient}）？撤销后不能恢复，如仍需转诊须重新发起。`));

  // Set by a move that went through: once the referral shows as it is now, the keyboard, if it fell
  // with the button pressed (gone, or the form closed), goes to the moves left, or the screen's title.
  const moved = useRef(false);
  const move = useMutation({
    mutationFn: async (action: ReferralAction): Promise<ReferralView> => {
      // The version on screen: a move on a referral someone else has changed since is refused (412).
      const at = { params: { id: r.referralId }, ifMatch: etagOf(r) };
      return sendMove(r, action, () => {
        switch (action) {
          case 'accept': return call('acceptReferral', { ...at, body: { appointmentAt: instantOf(day, time) } }); // checked on submit
          case 'reject': return call('rejectReferral', { ...at, body: { reason } });
          case 'reroute': return call('rerouteReferral', { ...at, body: target ? { toInstitutionId: target } : {} });
          case 'arrive': return call('arriveReferral', at);
          case 'complete': return call('completeReferral', at);
          case 'cancel': return call('cancelReferral', at);
        }
      });
    },
    onSuccess: (next, action) => {
      setOpen(undefined);
      setErrors({});
      setStale(undefined);
      qc.setQueryData(['referral', next.referralId], next);
      void qc.invalidateQueries({ queryKey: ['referrals'] });
      moved.current = true;
      announce(`已${actionLabel[action].replace(/转诊$/, '')}：转诊 ${shortId(next.referralId)}`);
      onDone?.(next, action);
    },
    onError: (err: ApiError) => {
      const full = capacityProblems(err);
      if (full) {
        setErrors(full);
        return;
      }
      // Someone else moved it first (412: since this screen loaded; 409: meanwhile): say so, and show
      // what it is now. The notice outlives the reload, which may leave no move to make.
      if (err.status === 412 || err.status === 409) {
        setOpen(undefined);
        setErrors({});
        setStale(err instanceof UnconfirmedMove ? `转诊 ${shortId(r.referralId)} ${unconfirmedMoveText}` : problemText(err));
        void qc.invalidateQueries({ queryKey: ['referral', r.referralId] });
        void qc.invalidateQueries({ queryKey: ['referrals'] });
        return;
      }
      setErrors(problemToFields(err));
    },
  });

  useDraft(`move-${r.referralId}`, { open, reason }, { inFlight: move.isPending });
  const opened = useOpenedForm(open);
  useEffect(() => {
    if (!moved.current) return;
    moved.current = false;
    const at = document.activeElement;
    if (at && at !== document.body && at.isConnected) return;
    const panel = document.getElementById('actions-title');
    if (panel) panel.focus();
    else focusTitle();
  }, [r]);
  const notice = <Notice text={stale} onDismiss={() => setStale(undefined)} focus />;
  // `more`: what the screen offers beyond the API's moves (下转回社区 after a completed visit), so that
  // "nothing to do" is not said above it.
  if (!actions.length) return <>{notice}{more || <p class="muted">当前状态下您无可执行的操作。</p>}</>;
  const needsForm = (a: ReferralAction) => a === 'accept' || a === 'reject' || a === 'reroute';
  const submit = (e: Event) => {
    e.preventDefault();
    if (!open) return;
    // What is blank is said here, in its field; the rest by the API.
    const missing = open === 'accept' ? appointmentProblems(day, time) : open === 'reject' ? rejectionProblems(reason) : {};
    setErrors(missing);
    if (!Object.keys(missing).length) move.mutate(open);
  };
  return (
    <section aria-labelledby="actions-title" class="actions-panel">
      <h2 id="actions-title" tabIndex={-1}>可执行操作</h2>
      {notice}
      <div class="buttons">
        {actions.map((a) => (
          <button type="button" key={a} class={a === 'reject' || a === 'cancel' ? 'danger' : a === 'accept' || a === 'complete' || a === 'arrive' ? 'primary' : ''}
            aria-expanded={needsForm(a) ? open === a : undefined}
            aria-disabled={move.isPending}
            onClick={() => (needsForm(a) ? (opened.toggled(), setOpen(open === a ? undefined : a)) : confirmed(a) && move.mutate(a))}>
            {actionLabel[a]}
          </button>
        ))}
      </div>
      <FormError errors={errors} />
      {open && (
        <form class="subform" ref={opened.form} onSubmit={submit} onKeyDown={closesOnEscape(() => setOpen(undefined), move.isPending)} novalidate>
          {open === 'accept' && <AppointmentFields day={day} time={time} onChange={(d, t) => setAppointment({ day: d, time: t })} errors={errors} />}
          {open === 'reject' && (
            <Field label="拒绝原因" error={errors.reason}>
              {(id, d) => <textarea id={id} rows={2} value={reason} aria-describedby={d} onInput={(e) => setReason(e.currentTarget.value)} />}
            </Field>
          )}
          {open === 'reroute' && (noTarget
            // Nobody else can take it: the platform's choice would be refused the same way.
            ? <p class="alert info" role="status">没有其他设有{departmentName}的定点{kind}可改派，可撤销本转诊。</p>
            : (
              <Field label="改派至" hint={`不选则由平台按容量自动分配；只列出设有${departmentName}的定点${kind}`} error={errors.toInstitutionId}>
                {(id, d) => (
                  <select id={id} value={target} aria-describedby={d} onChange={(e) => setTarget(e.currentTarget.value)}>
                    <option value="">平台自动分配</option>
                    {targets.map((h) => <option key={h.id} value={h.id}>{h.name}</option>)}
                  </select>
                )}
              </Field>
            ))}
          {!(open === 'reroute' && noTarget) && <button type="submit" class={open === 'reject' ? 'danger' : 'primary'} aria-disabled={move.isPending}>确认{actionLabel[open]}</button>}
        </form>
      )}
    </section>
  );
}
