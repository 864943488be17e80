// The clinic's advice and guidance: ask a hospital department about a patient (before, or instead
// of, referring them), follow the requests and their answers, and turn an answer into a referral
// in one click (the API links the two) or close the request.
import { useQueries, useQuery, useQueryClient } from '@tanstack/preact-query';
import { useState } from 'preact/hooks';
import { adviceRequestBody, adviceStatuses, type AdviceStatus, type AdviceView } from '#schemas/advice';
import { urgencies } from '#schemas/referrals';
import { call, etagOf, type ApiError } from '../../lib/api.ts';
import { useDraft, useSavedDraft } from '../../lib/drafts.ts';
import { dateTime, shortId } from '../../lib/format.ts';
import { problemToFields, splitCodes, validate, type FieldErrors } from '../../lib/forms.ts';
import { adviceStatusLabel, problemText, recommendationLabel, urgencyLabel } from '../../lib/labels.ts';
import { useMutation } from '../../lib/mutation.ts';
import { poll } from '../../lib/polling.ts';
import { AdviceExchange, AdviceFacts, AdviceHistory, AdviceStatusBadge, useAdvice } from '../../shared/advice.tsx';
import { useInstitutionName, useInstitutions } from '../../shared/names.ts';
import { chooseHospital, departmentsFor, UnknownPatient, useDepartmentName, usePatient, usePatientLabel } from '../../shared/referral.tsx';
import { Alert, Badge, closesOnEscape, CountTabs, Empty, Field, focusTitle, FormError, kept, Loading, Notice, RefreshFailed, Scroll, tabCount, Title, useOpenedForm } from '../../shared/ui.tsx';
import { forgetListAsLeft, go, listAsLeft, useHashParam, useListAsLeft } from '../../app/router.ts';
import { madeFor } from './found.ts';

export function AskForm({ personId }: { personId: string }) {
  const { label: patient, known } = usePatient(personId);
  const hospitals = useInstitutions('hospital');
  const draft = useSavedDraft<Record<string, string>>(`ask-${personId}`);
  const [to, setTo] = useState(draft?.to ?? '');
  const [department, setDepartment] = useState(draft?.department ?? '');
  const [diagnoses, setDiagnoses] = useState(draft?.diagnoses ?? '');
  const [question, setQuestion] = useState(draft?.question ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const qc = useQueryClient();
  const designated = (hospitals.data ?? []).filter((h) => h.designated);
  const departments = departmentsFor(designated, to);
  const body = () => ({ personId, ...(to ? { toInstitutionId: to } : {}), department, question, ...(diagnoses.trim() ? { diagnoses: splitCodes(diagnoses) } : {}) });
  const ask = useMutation({
    mutationFn: () => call('requestAdvice', { body: body() }),
    onSuccess: (a) => {
      forget();
      madeFor(personId);
      // Its 返回咨询列表 is the tab it is on (待答复), not whichever was last open there.
      forgetListAsLeft('#/clinic/advice');
      void qc.invalidateQueries({ queryKey: ['advice-list'] });
      go('clinic', 'advice', a.adviceId);
    },
    onError: (e: ApiError) => setErrors(problemToFields(e)),
  });
  // Kept also when the person goes to another screen of the console and back; once sent, not.
  const forget = useDraft(`ask-${personId}`, { to, department, diagnoses, question }, { inFlight: ask.isPending, keepOnLeave: true });
  const choose = (id: string) => chooseHospital(designated, id, department, { to: setTo, department: setDepartment, errors: setErrors });
  const submit = (e: Event) => {
    e.preventDefault();
    const v = validate(adviceRequestBody, body());
    setErrors(v.ok ? {} : v.errors);
    if (v.ok) ask.mutate();
  };
  return (
    <form onSubmit={submit} novalidate>
      <Title tab="咨询上级医院">咨询上级医院：{patient}</Title>
      {!known && <UnknownPatient />}
      <p class="muted">先问一问专科医生：答复后可一键转为转诊，或在基层继续诊治。</p>
      {/* As on 发起转诊: without it 科室 is an empty list, and 发送咨询 only says 请选择科室. */}
      {hospitals.isError && !kept(hospitals) && <Alert kind="error">医院及科室列表无法读取：{problemText(hospitals.error)}</Alert>}
      <FormError errors={errors} />
      <div class="row">
        <Field label="咨询医院" hint="不选则由平台按科室分配（优先本院的牵头医院）" error={errors.toInstitutionId}>{(id, d) => (
          <select id={id} value={to} aria-describedby={d} onChange={(e) => choose(e.currentTarget.value)}>
            <option value="">平台按科室分配</option>
            {designated.map((h) => <option key={h.id} value={h.id}>{h.name}</option>)}
          </select>
        )}</Field>
        <Field label="科室" error={errors.department}>{(id, d) => (
          <select id={id} value={department} aria-describedby={d} onChange={(e) => { setDepartment(e.currentTarget.value); setErrors(({ department: _, ...rest }) => rest); }}>
            <option value="">请选择</option>
            {departments.map((dep) => <option key={dep.code} value={dep.code}>{dep.name}</option>)}
          </select>
        )}</Field>
      </div>
      <Field label="初步诊断（ICD-10，可不填）" hint="例如 I10；转为转诊时沿用" error={errors.diagnoses ?? Object.entries(errors).find(([k]) => k.startsWith('diagnoses.'))?.[1]}>
        {(id, d) => <input id={id} class="mono" value={diagnoses} aria-describedby={d} onInput={(e) => setDiagnoses(e.currentTarget.value.toUpperCase())} />}
      </Field>
      <Field label="咨询问题" hint="病情摘要与想请教的问题" error={errors.question} wide>
        {(id, d) => <textarea id={id} rows={5} value={question} aria-describedby={d} onInput={(e) => setQuestion(e.currentTarget.value)} />}
      </Field>
      <button type="submit" class="primary" disabled={!known} aria-disabled={ask.isPending}>发送咨询</button>
    </form>
  );
}

const listOf = (status: AdviceStatus) => ({
  // The same query as the tab's count: the two never disagree.
  queryKey: ['advice-list', 'outgoing', status],
  queryFn: () => call('listAdviceRequests', { query: { box: 'outgoing', status, limit: 200 } }),
  refetchInterval: poll(15_000),
});

export function OutgoingAdvice() {
  // In the address: Back from an answer (or F5) finds the tab left.
  const [status, setStatus] = useHashParam<AdviceStatus>('status', 'answered', (v): v is AdviceStatus => (adviceStatuses as readonly string[]).includes(v));
  useListAsLeft('#/clinic/advice');
  const counts = useQueries({ queries: adviceStatuses.map(listOf) });
  const list = useQuery(listOf(status));
  const data = kept(list);
  const count = (i: number) => tabCount(counts[i]);
  return (
    <section>
      <Title>会诊咨询</Title>
      <CountTabs label="咨询状态" current={status} onSelect={setStatus} items={adviceStatuses.map((s, i) => ({ key: s, label: adviceStatusLabel[s], count: count(i) }))} />
      <RefreshFailed q={list} />
      {list.isPending ? <Loading what="咨询" /> : !data ? <Alert kind="error">{problemText(list.error)}</Alert> : data.items.length === 0 ? <Empty>没有{adviceStatusLabel[status]}的咨询</Empty> : (
        <Scroll label={`${adviceStatusLabel[status]}的咨询`}><table>
          <caption class="sr-only">{adviceStatusLabel[status]}的咨询</caption>
          <thead><tr><th scope="col">咨询单</th><th scope="col">患者</th><th scope="col">咨询医院</th><th scope="col">科室</th><th scope="col">答复</th><th scope="col">更新时间</th></tr></thead>
          <tbody>{data.items.map((a) => <Row key={a.adviceId} a={a} />)}</tbody>
        </table></Scroll>
      )}
    </section>
  );
}

function Row({ a }: { a: AdviceView }) {
  const to = useInstitutionName(a.toInstitutionId);
  const dept = useDepartmentName(a.toInstitutionId, a.department);
  const patient = usePatientLabel(a.personId, a.patient);
  return (
    <tr>
      <td><a href={`#/clinic/advice/${a.adviceId}`}>{shortId(a.adviceId)}</a></td>
      <td>{patient}</td><td>{to}</td><td>{dept}</td>
      <td>{a.recommendation ? <Badge tone={a.recommendation === 'refer' ? 'warn' : 'ok'}>{recommendationLabel[a.recommendation]}</Badge> : <AdviceStatusBadge a={a} />}</td>
      <td>{dateTime(a.updatedAt)}</td>
    </tr>
  );
}

export function AdviceDetail({ id }: { id: string }) {
  const q = useAdvice(id);
  // Held here, above the moves: they are made anew for each version, and a refusal reloads it.
  const [notice, setNotice] = useState<string>();
  if (q.isPending) return <Loading what="咨询" />;
  const a = kept(q);
  if (!a) return <Alert kind="error">{problemText(q.error)}</Alert>;
  return (
    <section>
      <Title actions={<a href={listAsLeft('#/clinic/advice', `#/clinic/advice?status=${a.status}`)}>返回咨询列表</a>}>咨询 {shortId(a.adviceId)}</Title>
      <Notice text={notice} onDismiss={() => setNotice(undefined)} focus />
      <RefreshFailed q={q} />
      <AdviceFacts a={a} />
      <AdviceExchange a={a} />
      {a.referralId && <p><a class="button" href={`#/clinic/referrals/${a.referralId}`}>查看由此发起的转诊 {shortId(a.referralId)}</a></p>}
      <ClinicMoves key={a.version} a={a} onStale={setNotice} />
      <AdviceHistory a={a} />
    </section>
  );
}

/**
 * Convert (a referral to the same hospital and department, prefilled) or close, as the API allows
 * now. Both name the version on screen (If-Match): if the hospital answered (or the platform
 * re-routed it) since, the API refuses (412); the clinic is told and sees the request as it is now.
 */
function ClinicMoves({ a, onStale }: { a: AdviceView; onStale: (notice: string | undefined) => void }) {
  const qc = useQueryClient();
  const [converting, setConverting] = useState(false);
  const opened = useOpenedForm(converting);
  const [urgency, setUrgency] = useState<(typeof urgencies)[number]>(a.recommendation === 'refer' ? 'urgent' : 'routine');
  const [diagnoses, setDiagnoses] = useState((a.diagnoses ?? []).join(' '));
  const [reason, setReason] = useState(a.question.slice(0, 1000));
  const [errors, setErrors] = useState<FieldErrors>({});
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['advice', a.adviceId] });
    void qc.invalidateQueries({ queryKey: ['advice-list'] });
  };
  const onError = (e: ApiError) => {
    if (e.status === 412 || e.status === 409) {
      onStale(problemText(e));
      refresh();
      return;
    }
    setErrors(problemToFields(e));
  };
  const convert = useMutation({
    mutationFn: () => call('convertAdviceRequest', { params: { id: a.adviceId }, ifMatch: etagOf(a), body: { urgency, reason, ...(diagnoses.trim() ? { diagnoses: splitCodes(diagnoses) } : {}) } }),
    onSuccess: (r) => { refresh(); void qc.invalidateQueries({ queryKey: ['referrals'] }); go('clinic', 'referrals', r.referralId); },
    onError,
  });
  const close = useMutation({
    mutationFn: () => call('closeAdviceRequest', { params: { id: a.adviceId }, ifMatch: etagOf(a), body: {} }),
    // Its button goes with the moves it ended: the keyboard goes to the title, above the status it now shows.
    onSuccess: (next) => { onStale(undefined); qc.setQueryData(['advice', a.adviceId], next); refresh(); focusTitle(); },
    onError,
  });
  // A referral goes to triage with a working diagnosis, as one made on 发起转诊 does (the API lets a
  // conversion carry none over from a question asked without one).
  const submitConvert = () => {
    if (!splitCodes(diagnoses).length) return setErrors({ diagnoses: '必填：转诊须有初步诊断' });
    setErrors({});
    convert.mutate();
  };
  if (!a.allowedActions.length) return null;
  return (
    <section aria-labelledby="advice-actions-title" class="actions-panel">
      <h2 id="advice-actions-title">可执行操作</h2>
      <FormError errors={errors} />
      <div class="buttons">
        {a.allowedActions.includes('convert') && <button type="button" class="primary" aria-expanded={converting} onClick={() => { opened.toggled(); setConverting(!converting); }}>转为转诊</button>}
        {a.allowedActions.includes('close') && (
          <button type="button" class="danger" aria-disabled={close.isPending}
            onClick={() => !close.isPending && confirm(a.status === 'open' ? '撤回该咨询？医院将不再答复，已写的答复也不会送达。' : '关闭该咨询？关闭后不能再转为转诊。') && close.mutate()}>
            {a.status === 'open' ? '撤回咨询' : '关闭咨询'}
          </button>
        )}
      </div>
      {converting && (
        <form class="subform" ref={opened.form} onSubmit={(e) => { e.preventDefault(); submitConvert(); }} onKeyDown={closesOnEscape(() => setConverting(false), convert.isPending)} novalidate>
          <p class="muted">转诊至同一医院、同一科室，并与本咨询关联。</p>
          <fieldset class="inline">
            <legend>紧急程度</legend>
            {urgencies.map((u) => <label key={u} class="radio"><input type="radio" name="convert-urgency" value={u} checked={urgency === u} onChange={() => setUrgency(u)} /> {urgencyLabel[u]}</label>)}
          </fieldset>
          <Field label="诊断（ICD-10，空格分隔）" error={errors.diagnoses ?? Object.entries(errors).find(([k]) => k.startsWith('diagnoses.'))?.[1]}>
            {(id, d) => <input id={id} class="mono" value={diagnoses} aria-describedby={d} onInput={(e) => setDiagnoses(e.currentTarget.value.toUpperCase())} />}
          </Field>
          <Field label="转诊原因" error={errors.reason} wide>{(id, d) => <textarea id={id} rows={3} value={reason} aria-describedby={d} onInput={(e) => setReason(e.currentTarget.value)} />}</Field>
          <button type="submit" class="primary" aria-disabled={convert.isPending}>确认转诊</button>
        </form>
      )}
    </section>
  );
}
