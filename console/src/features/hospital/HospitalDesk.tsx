// The hospital desk: the incoming worklist (most urgent first, accept and next), a referral's
// detail with arrival and completion, the downward referral prefilled from the upward one, and the
// clinics' advice requests (Advice.tsx). Moves are those the API allows and name the version shown.
import { useQueries, useQuery, useQueryClient } from '@tanstack/preact-query';
import { useEffect, useRef, useState } from 'preact/hooks';
import { department as departmentSchema } from '#schemas/institutions';
import { createReferralBody, referralStatuses, urgencies, type Referral, type ReferralAction, type ReferralStatus, type ReferralView } from '#schemas/referrals';
import { call, etagOf, type ApiError } from '../../lib/api.ts';
import { currentSession } from '../../lib/auth.ts';
import { date, dateTime, instantOf, shortId } from '../../lib/format.ts';
import { listError, onFields, problemToFields, splitCodes, validate, type FieldErrors } from '../../lib/forms.ts';
import { problemText, referralActionLabel, referralStatusLabel, urgencyLabel, urgencyRank } from '../../lib/labels.ts';
import { useDraft, useSavedDraft } from '../../lib/drafts.ts';
import { useAttemptKey, useMutation } from '../../lib/mutation.ts';
import { poll } from '../../lib/polling.ts';
import { useInstitution, useInstitutionName } from '../../shared/names.ts';
import { AppointmentFields, appointmentProblems, capacityProblems, openDepartments, ReferralActions, referralsQuery, rejectionProblems, ReferralHistory, ReferralSummary, proposedAppointment, ownMove, rejectionReason, sendMove, StuckReferrals, UnconfirmedMove, unconfirmedMoveText, urgencyTone, useOwnMove, usePatientLabel, useDepartmentName, type Box } from '../../shared/referral.tsx';
import { Alert, Badge, closesOnEscape, CountTabs, Empty, Field, focusTitle, FormError, kept, Loading, Notice, RefreshFailed, Scroll, tabCount, Title, useOpenedForm } from '../../shared/ui.tsx';
import { forgetListAsLeft, go, listAsLeft, useHashParam, useListAsLeft } from '../../app/router.ts';
import { IncomingAdvice, IncomingAdviceDetail } from './Advice.tsx';

export const hospitalNav = [
  { section: '', label: '转入工作台', within: ['referrals', 'down'] },
  { section: 'outgoing', label: '下转记录' },
  { section: 'advice', label: '会诊咨询' },
] as const;

export function HospitalDesk({ path }: { path: string[] }) {
  switch (path[0]) {
    case 'referrals': return <Detail id={path[1]!} />;
    case 'down': return <DownReferral upwardId={path[1]!} />;
    // A down referral this hospital sent is read under 下转记录, and goes back to it.
    case 'outgoing': return path[1] ? <Detail id={path[1]} back={{ href: listAsLeft('#/hospital/outgoing'), label: '返回下转记录' }} /> : <Outgoing />;
    case 'advice': return path[1] ? <IncomingAdviceDetail key={path[1]} id={path[1]} /> : <IncomingAdvice />;
    default: return <Worklist />;
  }
}

const worklistStatuses = ['submitted', 'accepted', 'arrived', 'completed', 'rejected', 'expired', 'cancelled'] as const satisfies readonly ReferralStatus[];

/** Most urgent first, then the one whose triage deadline comes first. */
const byUrgency = (a: ReferralView, b: ReferralView) => urgencyRank[a.urgency] - urgencyRank[b.urgency] || (a.slaDueAt ?? a.createdAt).localeCompare(b.slaDueAt ?? b.createdAt);

function useBox(box: Box, status: ReferralStatus) {
  return useQuery({ ...referralsQuery(box, status), refetchInterval: poll(10_000) });
}

function useCounts(box: Box, statuses: readonly ReferralStatus[]) {
  const qs = useQueries({ queries: statuses.map((s) => ({ ...referralsQuery(box, s), refetchInterval: poll(30_000) })) });
  return (i: number) => tabCount(qs[i]);
}

function Worklist() {
  // In the address: back from a referral (or after F5) the nurse finds the tab and filters she left.
  const [status, setStatus] = useHashParam<ReferralStatus>('status', 'submitted', (v): v is ReferralStatus => (worklistStatuses as readonly string[]).includes(v));
  const [dept, setDept] = useHashParam('dept', '', (v): v is string => departmentSchema.shape.code.safeParse(v).success);
  const [urgency, setUrgency] = useHashParam('urgency', '', (v): v is string => (urgencies as readonly string[]).includes(v));
  useListAsLeft('#/hospital');
  const me = useInstitution(currentSession()?.institutionId);
  const count = useCounts('incoming', worklistStatuses);
  const list = useBox('incoming', status);
  // Said above the list, so it stays when the referral it is about leaves the list.
  const [notice, setNotice] = useState<{ text: string; focus: boolean }>();
  // What the last triage did: the next referral takes the panel's place at once, so it is said here.
  const [done, setDone] = useState<{ text: string; referralId: string }>();
  // Triaged here (out of the waiting list at once, before the refetch confirms it), or refused as
  // moved meanwhile (the list shows it as it is now; the nurse has been told).
  const [handled, setHandled] = useState<ReadonlyMap<string, 'triaged' | 'stale'>>(new Map());
  const items = (kept(list)?.items ?? []).filter((r) => !(status === 'submitted' && handled.get(r.referralId) === 'triaged') && (!dept || r.department === dept) && (!urgency || r.urgency === urgency)).sort(byUrgency);
  // The referral in the panel stays there while the nurse works on it: one more urgent arriving
  // meanwhile is announced, not swapped in under her hands (she could accept the wrong patient). One
  // a colleague took meanwhile is said to have gone, and the next waits for her to ask for it.
  const [pinned, setPinned] = useState<string>();
  const [gone, setGone] = useState<ReferralView>();
  const current = items.find((r) => r.referralId === pinned) ?? items[0];
  // The pinned referral as last seen: once it has left the list, the notice still names its patient.
  const seen = useRef<ReferralView>();
  if (current && current.referralId === pinned) seen.current = current;
  const submitted = status === 'submitted' && list.isSuccess ? list.data.items : undefined;
  useEffect(() => {
    if (!submitted) return;
    if (pinned && !handled.has(pinned) && !submitted.some((r) => r.referralId === pinned)) {
      if (seen.current?.referralId === pinned) setGone(seen.current);
      toPanel();
    }
    setPinned(current?.referralId);
  }, [submitted, current?.referralId]);
  // Done with here (triaged, or refused as moved meanwhile and said so): the panel moves on. The
  // keyboard goes with it after a triage; after a refusal it is on the notice, which says what happened.
  // An answer can come after the panel moved on (the list saw the referral gone first): then the one
  // in the panel now stays, and so does the keyboard.
  const inPanel = useRef(current?.referralId);
  inPanel.current = current?.referralId;
  const leave = (referralId: string, why: 'triaged' | 'stale') => {
    setHandled((h) => new Map(h).set(referralId, why));
    if (inPanel.current !== referralId) return;
    setPinned(undefined);
    if (why === 'triaged') toPanel();
  };
  const triaged = (d: { text: string; referralId: string }) => {
    setDone(d);
    leave(d.referralId, 'triaged');
  };
  return (
    <section>
      <Title>转入工作台</Title>
      {/* A discharged patient the clinic refused, or did not take in time, has no follow-up yet. */}
      <StuckReferrals what="本院下转的转诊" list="#/hospital/outgoing" />
      <Notice text={notice?.text} onDismiss={() => setNotice(undefined)} focus={notice?.focus} />
      {done && <Alert kind="ok">{done.text} <a href={`#/hospital/referrals/${done.referralId}`}>查看转诊</a></Alert>}
      <CountTabs label="转诊状态" current={status} onSelect={setStatus} items={worklistStatuses.map((s, i) => ({ key: s, label: referralStatusLabel[s], count: count(i) }))} />
      <div class="row filters">
        <Field label="科室">{(id) => (
          // Each option says whether it is chosen: a value from the address set on the select before
          // its option existed (departments load after) would show 全部科室 over a filtered list.
          <select id={id} onChange={(e) => setDept(e.currentTarget.value)}>
            <option value="" selected={!dept}>全部科室</option>
            {(me.data?.departments ?? []).map((d) => <option key={d.code} value={d.code} selected={d.code === dept}>{d.name}</option>)}
          </select>
        )}</Field>
        <Field label="紧急程度">{(id) => (
          <select id={id} value={urgency} onChange={(e) => setUrgency(e.currentTarget.value)}>
            <option value="">全部</option>
            {urgencies.map((u) => <option key={u} value={u}>{urgencyLabel[u]}</option>)}
          </select>
        )}</Field>
      </div>
      {/* The next she asks for is the most urgent then: the one behind the notice she has not seen. */}
      {status === 'submitted' && gone && <GoneNotice key={gone.referralId} r={gone} next={!!current} onNext={() => { setGone(undefined); setPinned(items[0]?.referralId); toPanel(); }} />}
      {/* A failed refresh leaves the list and the panel as they were: a reason half typed is not lost to a blip. */}
      <RefreshFailed q={list} />
      {list.isPending ? <Loading what="转诊" /> : !kept(list) ? <Alert kind="error">{problemText(list.error)}</Alert> : items.length === 0 ? <Empty>没有{referralStatusLabel[status]}的转诊</Empty> : <>
        {status === 'submitted' && !gone && current && (
          <Triage key={current.referralId} r={current} remaining={items.length - 1} onStale={(n) => { setNotice({ text: n, focus: inPanel.current === current.referralId }); leave(current.referralId, 'stale'); }} onDone={triaged}
            moreUrgent={items[0] !== current && urgencyRank[items[0]!.urgency] < urgencyRank[current.urgency] ? items[0] : undefined}
            onSwitch={(id) => { setPinned(id); toPanel(); }} />
        )}
        <Scroll label={`${referralStatusLabel[status]}的转诊`}><table>
          <caption class="sr-only">{referralStatusLabel[status]}的转诊，紧急程度优先</caption>
          <thead><tr><th scope="col">紧急程度</th><th scope="col">患者</th><th scope="col">科室</th><th scope="col">诊断</th><th scope="col">转出机构</th><th scope="col">{status === 'submitted' ? '接收时限' : status === 'accepted' ? '预约时间' : '更新时间'}</th></tr></thead>
          <tbody>{items.map((r) => <Row key={r.referralId} r={r} />)}</tbody>
        </table></Scroll>
      </>}
    </section>
  );
}

/** What became of a referral that left the waiting list while the nurse had it in the panel. */
const goneWhy: Partial<Record<ReferralStatus, string>> = {
  cancelled: '社区已撤销该转诊',
  accepted: '本院其他人员已接收',
  rejected: '本院其他人员已拒绝',
  expired: '已超过接收时限',
};

/** The panel when its referral has gone: whose it was, what became of it, and whether a move of hers may be why. */
function GoneNotice({ r, next, onNext }: { r: ReferralView; next: boolean; onNext: () => void }) {
  const patient = usePatientLabel(r.personId, r.patient);
  // Read once, when the notice comes: not again as she comes back to the window (the words she has
  // heard would change to 正在核实 and back).
  const now = useQuery({
    queryKey: ['referral', r.referralId], queryFn: () => call('getReferral', { params: { id: r.referralId } }),
    refetchOnMount: 'always', refetchOnWindowFocus: false,
  });
  // Only what this read returned: a copy cached earlier (its page, opened before) is the referral
  // before it left, and kept beside a failed read.
  const read = now.isFetchedAfterMount && now.isSuccess ? now.data : undefined;
  // Her own move, whose answer came after the list saw it gone or was lost (found made by the read):
  // hers, not another's. Still waiting for its answer: said once it comes.
  const own = useOwnMove(r);
  const moved = read && (['accepted', 'rejected'] as const).find((to) => ownMove(r, read, to));
  const mine = own?.is === 'made' ? referralActionLabel[own.action] : moved && (moved === 'accepted' ? '接收' : '拒绝');
  // Not readable any more (404): sent to another hospital (by the clinic, or by the platform after it lapsed).
  const rerouted = (now.error as ApiError | null)?.status === 404;
  // Whether a move of hers may be why it left: not when the referral read now shows another's move,
  // or it went elsewhere before her 接收 (a 拒绝 is followed by the clinic's reroute).
  const hersOpen = !!own && !read && (!rerouted || own.action === 'reject');
  // Answer lost: may have been made. Still unanswered: waited for.
  const maybeMine = hersOpen && own.is === 'unknown' ? referralActionLabel[own.action] : undefined;
  const why = read ? (goneWhy[read.status] ?? '已被他人处理') : rerouted ? '已改派至其他医院' : maybeMine ? '其当前状态无法读取' : '已被他人处理或已撤销';
  const checking = !now.isFetchedAfterMount || (hersOpen && own.is === 'pending');
  const id = `${patient}的转诊 ${shortId(r.referralId)}`;
  return (
    <section class="triage" aria-labelledby="triage-title">
      <h2 id="triage-title" tabIndex={-1}>待分诊</h2>
      {/* One element, read out at each change of words: a screen reader hears the outcome, not only "checking". */}
      <Alert said={r.referralId} kind={checking ? 'info' : mine ? 'ok' : 'error'}>
        {checking ? `${id} 已不在待接收列表，正在核实其状态…`
          : mine ? <>{id} 已由您{mine}，无需再处理。 <a href={`#/hospital/referrals/${r.referralId}`}>查看转诊</a></>
          : `${id} 已不在待接收列表：${why}。${maybeMine ? `您此前的${maybeMine}未收到应答，可能已生效${rerouted ? '' : '，请稍后刷新核对'}。` : '您未对其做任何操作。'}`}
      </Alert>
      <button type="button" class="primary" onClick={onNext}>{next ? '处理下一条' : '知道了'}</button>
    </section>
  );
}

/**
 * After the panel's content changed under the keyboard (a triage, a switch, one gone): focus its
 * title, or the screen's when the panel is gone, once the new content is rendered. Only when the
 * keyboard was in the panel (or fell out of it with it): not from a filter she is using meanwhile.
 */
const toPanel = () => requestAnimationFrame(() => {
  const at = document.activeElement;
  if (at && at !== document.body && !at.closest('.triage')) return;
  const panel = document.getElementById('triage-title');
  if (panel) panel.focus();
  else focusTitle();
});

function Row({ r }: { r: ReferralView }) {
  const from = useInstitutionName(r.fromInstitutionId);
  const patient = usePatientLabel(r.personId, r.patient);
  const dept = useDepartmentName(r.toInstitutionId, r.department);
  return (
    <tr>
      <td><Badge tone={urgencyTone[r.urgency]}>{urgencyLabel[r.urgency]}</Badge></td>
      <td><a href={`#/hospital/referrals/${r.referralId}`}>{patient}</a></td>
      <td>{dept}</td>
      <td>{r.diagnoses.join('、')}</td>
      <td>{from}</td>
      <td>{dateTime(r.status === 'submitted' ? r.slaDueAt : r.status === 'accepted' ? r.appointmentAt : r.updatedAt)}</td>
    </tr>
  );
}

/**
 * The next referral to triage: accept with an appointment (then the next one comes up) or reject
 * with a reason. Both name the version on screen (If-Match): if another nurse has moved it since
 * this list loaded, the API refuses (412), and the nurse is told and sees the list as it is now.
 */
function Triage({ r, remaining, onStale, onDone, moreUrgent, onSwitch }: {
  r: ReferralView; remaining: number; onStale: (notice: string) => void; onDone: (done: { text: string; referralId: string }) => void;
  moreUrgent?: ReferralView; onSwitch: (referralId: string) => void;
}) {
  const qc = useQueryClient();
  const from = useInstitutionName(r.fromInstitutionId);
  const patient = usePatientLabel(r.personId, r.patient);
  const dept = useDepartmentName(r.toInstitutionId, r.department);
  const [{ day, time }, setAppointment] = useState(() => proposedAppointment(r));
  // A rejection reason half typed comes back after F5 with its referral, as other forms do.
  const draft = useSavedDraft<{ rejecting: boolean; reason: string }>(`triage-${r.referralId}`);
  const [rejecting, setRejecting] = useState(draft?.rejecting ?? false);
  const [reason, setReason] = useState(draft?.reason ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const refresh = () => void qc.invalidateQueries({ queryKey: ['referrals'] });
  const onError = (e: ApiError) => {
    const full = capacityProblems(e);
    if (full) {
      setErrors(full);
      return;
    }
    if (e.status === 412 || e.status === 409) {
      onStale(`${patient}的转诊（${shortId(r.referralId)}）${e instanceof UnconfirmedMove ? unconfirmedMoveText : '已被他人处理或已由社区撤销，您的操作未生效；列表已刷新为最新状态。'}`);
      refresh();
      return;
    }
    setErrors(problemToFields(e));
  };
  // Only the moves the API offers this caller now (a referral sent to another hospital offers none).
  const may = (action: ReferralAction) => r.allowedActions.includes(action);
  // The version this list showed (lists carry it, not an ETag per item).
  const at = { params: { id: r.referralId }, ifMatch: etagOf(r) };
  const said = (text: string) => onDone({ text: `${text}：${patient}的转诊 ${shortId(r.referralId)}（${dept}）。`, referralId: r.referralId });
  const accept = useMutation({
    mutationFn: () => sendMove(r, 'accept', () => call('acceptReferral', { ...at, body: { appointmentAt: instantOf(day, time) } })),
    onSuccess: (next) => { said(`已接收，预约 ${dateTime(next.appointmentAt)}`); refresh(); },
    onError,
  });
  const reject = useMutation({ mutationFn: () => sendMove(r, 'reject', () => call('rejectReferral', { ...at, body: { reason } })), onSuccess: () => { said('已拒绝，已退回转出机构'); refresh(); }, onError });
  // What is blank is said in its field, without a request; the rest by the API.
  const sent = (missing: FieldErrors, send: () => void) => {
    setErrors(missing);
    if (!Object.keys(missing).length) send();
  };
  useDraft(`triage-${r.referralId}`, { rejecting, reason }, { inFlight: accept.isPending || reject.isPending });
  // 拒绝 swaps the buttons for the reason's form, and 返回 swaps it back: the keyboard goes with it
  // (to the reason, back to 拒绝), not to the page's start.
  const rejectButton = useRef<HTMLButtonElement>(null);
  const opened = useOpenedForm(rejecting, rejectButton);
  const rejectForm = (on: boolean) => {
    opened.toggled();
    setRejecting(on);
  };
  return (
    <section class="triage" aria-labelledby="triage-title">
      <h2 id="triage-title" tabIndex={-1}>待分诊 {remaining > 0 && <span class="muted small">（其后还有 {remaining} 条）</span>}</h2>
      {moreUrgent && (
        <p class="alert info" role="status">
          新到一条更紧急的转诊（{urgencyLabel[moreUrgent.urgency]}）。
          <button type="button" class="link" onClick={() => onSwitch(moreUrgent.referralId)}>先处理该条</button>
        </p>
      )}
      <p><Badge tone={urgencyTone[r.urgency]}>{urgencyLabel[r.urgency]}</Badge> <strong>{patient}</strong> · {dept} · 来自 {from}</p>
      <p>诊断 {r.diagnoses.join('、')} · {r.reason}</p>
      <p class="muted small">提交于 {dateTime(r.createdAt)} · 须在 {dateTime(r.slaDueAt)} 前处理{r.preferredDate && <> · 希望就诊 {date(r.preferredDate)}</>}</p>
      <FormError errors={errors} />
      {!rejecting ? (
        <form onSubmit={(e) => { e.preventDefault(); sent(appointmentProblems(day, time), accept.mutate); }} novalidate>
          {may('accept') && <AppointmentFields day={day} time={time} onChange={(d, t) => setAppointment({ day: d, time: t })} errors={errors} />}
          <div class="buttons">
            {may('accept') && <button type="submit" class="primary" aria-disabled={accept.isPending}>接收并处理下一条</button>}
            {may('reject') && <button type="button" ref={rejectButton} class="danger" onClick={() => rejectForm(true)}>拒绝</button>}
            <a href={`#/hospital/referrals/${r.referralId}`}>查看详情</a>
          </div>
        </form>
      ) : (
        <form ref={opened.form} onSubmit={(e) => { e.preventDefault(); sent(rejectionProblems(reason), reject.mutate); }} onKeyDown={closesOnEscape(() => rejectForm(false), reject.isPending)} novalidate>
          <Field label="拒绝原因" error={errors.reason}>{(id, d) => <textarea id={id} rows={2} value={reason} aria-describedby={d} onInput={(e) => setReason(e.currentTarget.value)} />}</Field>
          <div class="buttons">
            <button type="submit" class="danger" aria-disabled={reject.isPending}>确认拒绝</button>
            <button type="button" onClick={() => rejectForm(false)}>返回</button>
          </div>
        </form>
      )}
    </section>
  );
}

/** The down referrals made after an upward one (it lists their ids), each as it is now. */
function useDownReferrals(up: Referral) {
  const qs = useQueries({ queries: (up.downwardReferralIds ?? []).map((id) => ({ queryKey: ['referral', id], queryFn: () => call('getReferral', { params: { id } }) })) });
  const all = qs.flatMap((q) => (q.data ? [q.data] : []));
  // One the clinic may still take or has taken: a second would send the patient twice.
  const live = all.filter((r) => !['cancelled', 'rejected', 'expired'].includes(r.status));
  return { all, live };
}

/** The down referrals already made for this one, linked (a second click on 下转回社区 made a duplicate). */
function DownAlready({ downs }: { downs: ReferralView[] }) {
  if (!downs.length) return null;
  return (
    <Alert kind="info">
      已下转回社区：{downs.map((d, i) => <span key={d.referralId}>{i > 0 && '；'}<a href={`#/hospital/outgoing/${d.referralId}`}>转诊 {shortId(d.referralId)}</a>（{referralStatusLabel[d.status]}）</span>)}
    </Alert>
  );
}

function Detail({ id, back = { href: listAsLeft('#/hospital'), label: '返回工作台' } }: { id: string; back?: { href: string; label: string } }) {
  const q = useQuery({ queryKey: ['referral', id], queryFn: () => call('getReferral', { params: { id } }), refetchInterval: poll(15_000) });
  if (q.isPending) return <Loading what="转诊" />;
  const r = kept(q);
  if (!r) {
    // A referral this hospital rejected and the clinic then sent elsewhere (or cancelled before it
    // reached it) is no longer its to read: said, with the way back, not a bare 未找到.
    const gone = (q.error as ApiError).status === 404;
    return (
      <section>
        <Title actions={<a href={back.href}>{back.label}</a>}>转诊 {shortId(id)}</Title>
        <Alert kind="error">{gone ? '本院已无法查看该转诊：它可能已被社区改派至其他医院或撤销。' : problemText(q.error)}</Alert>
      </section>
    );
  }
  const me = currentSession()?.institutionId;
  return (
    <section>
      <Title actions={<a href={back.href}>{back.label}</a>}>转诊 {shortId(r.referralId)}</Title>
      <RefreshFailed q={q} />
      <ReferralSummary r={r} />
      <ReferralActions key={r.referralId} r={r} more={r.direction === 'up' && r.toInstitutionId === me && r.status === 'completed' && <DownAction up={r} />} />
      <ReferralHistory r={r} />
    </section>
  );
}

function DownAction({ up }: { up: Referral }) {
  const { all, live } = useDownReferrals(up);
  return (
    <>
      <DownAlready downs={all} />
      <p><a class={`button${live.length ? '' : ' primary'}`} href={`#/hospital/down/${up.referralId}`}>{live.length ? '再次下转' : '下转回社区'}</a></p>
    </>
  );
}

function DownReferral({ upwardId }: { upwardId: string }) {
  const up = useQuery({ queryKey: ['referral', upwardId], queryFn: () => call('getReferral', { params: { id: upwardId } }) });
  if (up.isPending) return <Loading what="上转记录" />;
  // Read again when the tab comes back: a failure then does not take away the plan being written.
  const r = kept(up);
  if (!r) return <Alert kind="error">{problemText(up.error)}</Alert>;
  return <DownForm up={r} />;
}

const downFields = onFields('diagnoses', 'department', 'reason', 'followUpPlan');

function DownForm({ up }: { up: Referral }) {
  const clinic = useInstitution(up.fromInstitutionId);
  const draft = useSavedDraft<{ reason: string; plan: string; diagnoses: string; department: string }>(`down-${up.referralId}`);
  const [picked, setPicked] = useState(draft?.department ?? '');
  const [reason, setReason] = useState(draft?.reason ?? '病情稳定，转回社区继续治疗');
  const [plan, setPlan] = useState(draft?.plan ?? '');
  const [diagnoses, setDiagnoses] = useState(draft?.diagnoses ?? up.diagnoses.join(' '));
  const [errors, setErrors] = useState<FieldErrors>({});
  const qc = useQueryClient();
  const { live } = useDownReferrals(up);
  // The clinic's own departments that take referrals (a closed one is refused 422 unroutable); until
  // the nurse picks one, its first (most clinics have only 全科).
  const departments = clinic.data ? openDepartments(clinic.data) : [];
  const department = departments.some((d) => d.code === picked) ? picked : departments[0]?.code ?? 'GP';
  const body = () => ({
    personId: up.personId, direction: 'down' as const, toInstitutionId: up.fromInstitutionId, department, reason,
    diagnoses: splitCodes(diagnoses), urgency: 'routine' as const, upwardReferralId: up.referralId, followUpPlan: plan,
  });
  // A retry after a lost answer makes one down referral, not two.
  const attempt = useAttemptKey('down', body());
  const create = useMutation({
    mutationFn: () => call('createReferral', { body: body(), idempotencyKey: attempt }),
    onSuccess: (r) => {
      forget();
      void qc.invalidateQueries({ queryKey: ['referrals'] });
      // Its 返回下转记录 is the list's first tab (待接收, where it is), not whichever was last open.
      forgetListAsLeft('#/hospital/outgoing');
      go('hospital', 'outgoing', r.referralId);
    },
    onError: (e: ApiError) => setErrors(problemToFields(e, downFields)),
  });
  // Kept also when the person goes to another screen of the console and back; once sent, not.
  const forget = useDraft(`down-${up.referralId}`, { reason, plan, diagnoses, department: picked }, { inFlight: create.isPending, keepOnLeave: true });
  const submit = (e: Event) => {
    e.preventDefault();
    const v = validate(createReferralBody, body(), downFields);
    setErrors(v.ok ? {} : v.errors);
    if (v.ok) create.mutate();
  };
  return (
    <form onSubmit={submit} novalidate>
      <Title>下转至 {clinic.data?.name ?? up.fromInstitutionId}</Title>
      <p class="muted">依据上转 {shortId(up.referralId)} 预填；患者 {up.patient?.name ?? shortId(up.personId)}</p>
      {live.length > 0 && <Alert kind="info">该患者已按此上转下转回社区（{live.map((d) => shortId(d.referralId)).join('、')}），再次提交会产生另一条下转。</Alert>}
      <FormError errors={errors} />
      <Field label="诊断（ICD-10，空格分隔）" error={listError(errors, 'diagnoses')}>{(id, d) => <input id={id} class="mono" value={diagnoses} aria-describedby={d} onInput={(e) => setDiagnoses(e.currentTarget.value.toUpperCase())} />}</Field>
      <Field label="接收科室" error={errors.department}>{(id, d) => (
        <select id={id} value={department} aria-describedby={d} onChange={(e) => setPicked(e.currentTarget.value)}>
          {departments.length === 0 && <option value="GP">全科</option>}
          {departments.map((dep) => <option key={dep.code} value={dep.code}>{dep.name}</option>)}
        </select>
      )}</Field>
      <Field label="下转原因" error={errors.reason}>{(id, d) => <textarea id={id} rows={2} value={reason} aria-describedby={d} onInput={(e) => setReason(e.currentTarget.value)} />}</Field>
      <Field label="随访计划" error={errors.followUpPlan} wide>{(id, d) => <textarea id={id} rows={4} value={plan} aria-describedby={d} placeholder="例如：每月随访血压，调整用药" onInput={(e) => setPlan(e.currentTarget.value)} />}</Field>
      <button type="submit" class="primary" aria-disabled={create.isPending}>提交下转</button>
    </form>
  );
}

function Outgoing() {
  // In the address: Back from a referral (or F5) finds the tab left.
  const [status, setStatus] = useHashParam<ReferralStatus>('status', 'submitted', (v): v is ReferralStatus => (referralStatuses as readonly string[]).includes(v));
  const count = useCounts('outgoing', referralStatuses);
  const list = useBox('outgoing', status);
  const data = kept(list);
  useListAsLeft('#/hospital/outgoing');
  return (
    <section>
      <Title>下转记录</Title>
      <CountTabs label="转诊状态" current={status} onSelect={setStatus} items={referralStatuses.map((s, i) => ({ key: s, label: referralStatusLabel[s], count: count(i) }))} />
      <RefreshFailed q={list} />
      {list.isPending ? <Loading /> : !data ? <Alert kind="error">{problemText(list.error)}</Alert> : data.items.length === 0 ? <Empty>没有{referralStatusLabel[status]}的下转</Empty> : (
        <Scroll label={`${referralStatusLabel[status]}的下转`}><table>
          <caption class="sr-only">{referralStatusLabel[status]}的下转</caption>
          <thead><tr>
            <th scope="col">转诊单</th><th scope="col">患者</th><th scope="col">接收机构</th><th scope="col">{status === 'accepted' ? '随访预约' : '更新时间'}</th>
            {status === 'rejected' && <th scope="col">拒绝原因</th>}
          </tr></thead>
          <tbody>{data.items.map((r) => <OutgoingRow key={r.referralId} r={r} />)}</tbody>
        </table></Scroll>
      )}
    </section>
  );
}

function OutgoingRow({ r }: { r: Referral }) {
  const to = useInstitutionName(r.toInstitutionId);
  const patient = usePatientLabel(r.personId, r.patient);
  return (
    <tr>
      <td><a href={`#/hospital/outgoing/${r.referralId}`}>{shortId(r.referralId)}</a></td>
      <td>{patient}</td><td>{to}</td>
      {/* What the hospital follows up on: when the clinic will see the patient, or why it would not. */}
      <td>{dateTime(r.status === 'accepted' ? (r.appointmentAt ?? r.updatedAt) : r.updatedAt)}</td>
      {r.status === 'rejected' && <td>{rejectionReason(r)}</td>}
    </tr>
  );
}
