// The clinic desk: find the patient by national ID, then refer up or prescribe in one click; the
// clinic's referrals, out (转出, its own) and in (转入, the hospitals' down referrals to accept), and
// its prescriptions, by status; a referral's history with its slip (转诊单).
import { useQueries, useQuery, useQueryClient } from '@tanstack/preact-query';
import { useEffect, useRef, useState } from 'preact/hooks';
import qrcode from 'qrcode-generator';
import type { PersonSummary } from '#schemas/institutions';
import { MAX_SUPPLY_DAYS, NORMAL_MAX_SUPPLY_DAYS, openPrescriptionStatuses, prescriptionRequest, prescriptionStatuses, type Prescription, type PrescriptionRequest, type PrescriptionStatus } from '#schemas/prescriptions';
import { createReferralBody, referralStatuses, urgencies, type Referral, type ReferralStatus } from '#schemas/referrals';
import { call, outcomeUnknown, type ApiError } from '../../lib/api.ts';
import { currentSession } from '../../lib/auth.ts';
import { useDraft, useSavedDraft } from '../../lib/drafts.ts';
import { rememberPerson } from '../../lib/people.ts';
import { lastFound, madeFor, setLastFound } from './found.ts';
import { calendarDay, dateTime, shortId } from '../../lib/format.ts';
import { idTyped, listError, noIdYet, onFields, problemToFields, splitCodes, useLineKeys, validate, withoutLine, type FieldErrors } from '../../lib/forms.ts';
import { categoryLabel, prescriptionStatusLabel, problemText, referralStatusLabel, urgencyLabel } from '../../lib/labels.ts';
import { useAttemptKey, useMutation } from '../../lib/mutation.ts';
import { poll } from '../../lib/polling.ts';
import { useDrugName, useDrugs, useInstitutionName, useInstitutions } from '../../shared/names.ts';
import { chooseHospital, departmentsFor, ReferralActions, ReferralHistory, referralsQuery, ReferralSummary, rejectionReason, StuckReferrals, UnknownPatient, urgencyTone, usePatient, usePatientLabel, type Box } from '../../shared/referral.tsx';
import { Alert, announce, Badge, Count, countOf, CountTabs, Empty, Field, focusWhenShown, FormError, kept, Loading, RefreshFailed, Scroll, staleNote, tabCount, Title, type Listing } from '../../shared/ui.tsx';
import { go, useHashParam } from '../../app/router.ts';
import { AdviceDetail, AskForm, OutgoingAdvice } from './Advice.tsx';

export const clinicNav = [
  // The forms started from 接诊 are its screens in the nav.
  { section: '', label: '接诊', within: ['refer', 'prescribe', 'ask'] },
  { section: 'referrals', label: '转诊' },
  { section: 'prescriptions', label: '处方' },
  { section: 'advice', label: '会诊咨询' },
] as const;

export function ClinicDesk({ path }: { path: string[] }) {
  switch (path[0]) {
    case 'refer': return <ReferForm personId={path[1]!} />;
    case 'prescribe': return <PrescribeForm personId={path[1]!} referralId={path[2]} />;
    // `incoming` is no id the API issues (those start `ref_`); keyed so each box starts at 待接收.
    case 'referrals': return path[1] === 'incoming' ? <Referrals key="in" box="incoming" /> : path[1] ? <ReferralDetail id={path[1]} /> : <Referrals key="out" box="outgoing" />;
    case 'prescriptions': return <Prescriptions issued={path[1]} />;
    case 'ask': return <AskForm personId={path[1]!} />;
    case 'advice': return path[1] ? <AdviceDetail id={path[1]} /> : <OutgoingAdvice />;
    default: return <FindPerson />;
  }
}

function FindPerson() {
  const qc = useQueryClient();
  const [nationalId, setNationalId] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [found, setFoundState] = useState<PersonSummary | undefined>(lastFound);
  const setFound = (p: PersonSummary | undefined) => {
    setLastFound(p);
    setFoundState(p);
  };
  const lookup = useMutation({
    mutationFn: () => call('lookupPerson', { body: { nationalId } }),
    onSuccess: (p) => {
      // Other screens show the name for this personId during this session, after a reload too.
      qc.setQueryData(['person', p.personId], p);
      rememberPerson(p.personId, p);
      setFound(p);
      setNationalId('');
      setErrors({});
      // The keyboard stays on 查找患者; what it found is said.
      announce(`已找到患者：${p.name}（${p.nationalIdMasked}），${p.district}`);
    },
    onError: (e: ApiError) => { setFound(undefined); setErrors(problemToFields(e)); },
  });
  return (
    <section>
      <Title>接诊</Title>
      <AwaitingReferrals />
      <StuckReferrals what="本机构转出的转诊" list="#/clinic/referrals" />
      <form class="row" onSubmit={(e) => { e.preventDefault(); const blank = noIdYet(nationalId); setErrors(blank ?? {}); if (!blank) lookup.mutate(); }}>
        <Field label="身份证号" hint="读卡或输入18位身份证号" error={errors.nationalId ?? errors['']}>
          {(id, d) => <input id={id} class="mono" autocomplete="off" value={nationalId} aria-describedby={d} onInput={(e) => setNationalId(idTyped(e.currentTarget.value))} />}
        </Field>
        <div class="field"><span class="label" aria-hidden="true">&nbsp;</span><button type="submit" class="primary" aria-disabled={lookup.isPending}>查找患者</button></div>
      </form>
      {found && (
        <div class="card person" role="region" aria-label="患者">
          <p><strong class="big-text">{found.name}</strong> <span class="mono">{found.nationalIdMasked}</span> · {found.district}</p>
          <div class="buttons">
            <a class="button primary" href={`#/clinic/refer/${found.personId}`}>发起转诊</a>
            <a class="button" href={`#/clinic/prescribe/${found.personId}`}>开处方</a>
            <a class="button" href={`#/clinic/ask/${found.personId}`}>咨询上级医院</a>
          </div>
        </div>
      )}
    </section>
  );
}

const referFields = onFields('toInstitutionId', 'department', 'diagnoses', 'reason', 'preferredDate');

function ReferForm({ personId }: { personId: string }) {
  const { label: patient, known } = usePatient(personId);
  const hospitals = useInstitutions('hospital');
  const draft = useSavedDraft<Record<string, string>>(`refer-${personId}`);
  const [to, setTo] = useState(draft?.to ?? '');
  const [department, setDepartment] = useState(draft?.department ?? '');
  const [urgency, setUrgency] = useState<(typeof urgencies)[number]>((draft?.urgency as 'routine') ?? 'routine');
  const [diagnoses, setDiagnoses] = useState(draft?.diagnoses ?? '');
  const [reason, setReason] = useState(draft?.reason ?? '');
  const [preferredDate, setPreferredDate] = useState(draft?.preferredDate ?? '');
  // A date typed in part reads as '' (no date): the referral would go without it, unsaid.
  const dateBox = useRef<HTMLInputElement>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const qc = useQueryClient();
  const designated = (hospitals.data ?? []).filter((h) => h.designated);
  const departments = departmentsFor(designated, to);
  const body = () => ({ personId, direction: 'up' as const, ...(to ? { toInstitutionId: to } : {}), department, reason, diagnoses: splitCodes(diagnoses), urgency, ...(preferredDate ? { preferredDate } : {}) });
  const attempt = useAttemptKey('refer', body());
  const create = useMutation({
    mutationFn: () => call('createReferral', { body: body(), idempotencyKey: attempt }),
    onSuccess: (r) => { forget(); madeFor(personId); void qc.invalidateQueries({ queryKey: ['referrals'] }); go('clinic', 'referrals', r.referralId); },
    onError: (e: ApiError) => setErrors(problemToFields(e, referFields)),
  });
  // Kept also when the person goes to another screen of the console and back; once sent, not.
  const forget = useDraft(`refer-${personId}`, { to, department, urgency, diagnoses, reason, preferredDate }, { inFlight: create.isPending, keepOnLeave: true });
  const choose = (id: string) => chooseHospital(designated, id, department, { to: setTo, department: setDepartment, errors: setErrors });
  const submit = (e: Event) => {
    e.preventDefault();
    const v = validate(createReferralBody, body(), referFields);
    // A day gone by is not asked for: the API would route for today, and the hospital read a past wish.
    const date = dateBox.current?.validity.badInput ? '日期不完整：请填写年、月、日，或清空（不指定日期）' : preferredDate && preferredDate < calendarDay() ? '希望就诊日期不能早于今天' : undefined;
    const found = { ...(v.ok ? {} : v.errors), ...(date ? { preferredDate: date } : {}) };
    setErrors(found);
    if (!Object.keys(found).length) create.mutate();
  };
  return (
    <form onSubmit={submit} novalidate>
      <Title tab="发起转诊">转诊：{patient}</Title>
      {!known && <UnknownPatient />}
      {/* Without it 科室 is an empty list, and 提交 only says 请选择科室. */}
      {hospitals.isError && !kept(hospitals) && <Alert kind="error">医院及科室列表无法读取：{problemText(hospitals.error)}</Alert>}
      <FormError errors={errors} />
      <div class="row">
        <Field label="接收医院" hint="不选则由平台按科室容量分配" error={errors.toInstitutionId}>{(id, d) => (
          <select id={id} value={to} aria-describedby={d} onChange={(e) => choose(e.currentTarget.value)}>
            <option value="">平台按容量分配</option>
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
      <fieldset class="inline">
        <legend>紧急程度</legend>
        {urgencies.map((u) => <label key={u} class="radio"><input type="radio" name="urgency" value={u} checked={urgency === u} onChange={() => setUrgency(u)} /> {urgencyLabel[u]}</label>)}
      </fieldset>
      <Field label="希望就诊日期" hint="选填：平台按该日的科室号源分配，医院据此预约" error={errors.preferredDate} narrow>
        {(id, d) => <input id={id} type="date" min={calendarDay()} value={preferredDate} aria-describedby={d} ref={dateBox} onInput={(e) => setPreferredDate(e.currentTarget.value)} />}
      </Field>
      <Field label="诊断（ICD-10，空格分隔）" hint="例如 I20.9 I10" error={listError(errors, 'diagnoses')}>
        {(id, d) => <input id={id} class="mono" value={diagnoses} aria-describedby={d} onInput={(e) => setDiagnoses(e.currentTarget.value.toUpperCase())} />}
      </Field>
      <Field label="转诊原因" error={errors.reason} wide>{(id, d) => <textarea id={id} rows={3} value={reason} aria-describedby={d} onInput={(e) => setReason(e.currentTarget.value)} />}</Field>
      {/* Busy is aria-disabled, so the keyboard stays on it (lib/mutation.ts drops a second submit); an unknown patient cannot be referred. */}
      <button type="submit" class="primary" disabled={!known} aria-disabled={create.isPending}>提交转诊</button>
    </form>
  );
}


const prescriptionsQuery = (status: PrescriptionStatus) => ({
  queryKey: ['prescriptions', status],
  queryFn: () => call('listPrescriptions', { query: { status, limit: 200 } }),
});

function useCounts(queries: ReadonlyArray<{ queryKey: string[]; queryFn: () => Promise<Listing> }>) {
  const qs = useQueries({ queries: queries.map((q) => ({ ...q, refetchInterval: poll(30_000) })) });
  return (i: number) => tabCount(qs[i]);
}

/** Down referrals to this clinic still waiting for it: they expire at their deadline if nobody acts. */
const useAwaiting = () => useQuery({ ...referralsQuery('incoming', 'submitted'), refetchInterval: poll(30_000) });

/** On 接诊, where the GP spends the day: said only while some wait. */
function AwaitingReferrals() {
  const awaiting = useAwaiting();
  if (!kept(awaiting)?.items.length) return null;
  return <Alert>医院下转到本机构的转诊有 {countOf(awaiting.data)} 条待接收，请在接收时限内接收或拒绝。{staleNote([awaiting])} <a href="#/clinic/referrals/incoming">查看转入的转诊</a></Alert>;
}

/** 转出 / 转入: the clinic's own referrals, and those sent down to it (with how many wait for it). */
function BoxLinks({ box }: { box: Box }) {
  const awaiting = tabCount(useAwaiting());
  const link = (b: Box) => ({ class: `button${box === b ? ' primary' : ''}`, 'aria-current': box === b ? ('page' as const) : undefined });
  return (
    <nav class="buttons" aria-label="转出或转入">
      <a href="#/clinic/referrals" {...link('outgoing')}>转出（本机构发起）</a>
      <a href="#/clinic/referrals/incoming" {...link('incoming')}>转入（下转到本机构）{awaiting && <Count c={awaiting} before="待接收 " />}</a>
    </nav>
  );
}

// Nearest deadline first: a waiting one expires at its slaDueAt.
const byDeadline = (a: Referral, b: Referral) => (a.slaDueAt ?? a.createdAt).localeCompare(b.slaDueAt ?? b.createdAt);

function Referrals({ box }: { box: Box }) {
  const [status, setStatus] = useHashParam<ReferralStatus>('status', 'submitted', (v): v is ReferralStatus => (referralStatuses as readonly string[]).includes(v));
  const count = useCounts(referralStatuses.map((s) => referralsQuery(box, s)));
  const list = useQuery({ ...referralsQuery(box, status), refetchInterval: poll(15_000) });
  const incoming = box === 'incoming';
  const waiting = incoming && status === 'submitted';
  const data = kept(list);
  const items = data && (waiting ? [...data.items].sort(byDeadline) : data.items);
  return (
    <section>
      <Title>{incoming ? '转入的转诊' : '转出的转诊'}</Title>
      <BoxLinks box={box} />
      {incoming && <p class="muted">医院下转回本机构的患者：接收时预约随访时间；超过接收时限未处理的转诊将自动超时。</p>}
      <CountTabs label="转诊状态" current={status} onSelect={setStatus} items={referralStatuses.map((s, i) => ({ key: s, label: referralStatusLabel[s], count: count(i) }))} />
      <RefreshFailed q={list} />
      {list.isPending ? <Loading /> : !items ? <Alert kind="error">{problemText(list.error)}</Alert> : !items.length ? <Empty>没有{referralStatusLabel[status]}的{incoming ? '转入' : '转诊'}</Empty> : (
        <Scroll label={`${referralStatusLabel[status]}的${incoming ? '转入' : '转诊'}`}><table>
          <caption class="sr-only">{referralStatusLabel[status]}的{incoming ? '转入' : '转诊'}</caption>
          <thead><tr>
            <th scope="col">转诊单</th><th scope="col">患者</th><th scope="col">{incoming ? '转出医院' : '接收医院'}</th><th scope="col">紧急程度</th>
            <th scope="col">{waiting ? '接收时限' : status === 'accepted' ? '预约时间' : '更新时间'}</th>
            {status === 'rejected' && <th scope="col">拒绝原因</th>}
          </tr></thead>
          <tbody>{items.map((r) => <ReferralRow key={r.referralId} r={r} box={box} waiting={waiting} />)}</tbody>
        </table></Scroll>
      )}
    </section>
  );
}

function ReferralRow({ r, box, waiting }: { r: Referral; box: Box; waiting: boolean }) {
  const other = useInstitutionName(box === 'incoming' ? r.fromInstitutionId : r.toInstitutionId);
  const patient = usePatientLabel(r.personId, r.patient);
  return (
    <tr>
      <td><a href={`#/clinic/referrals/${r.referralId}`}>{shortId(r.referralId)}</a></td>
      <td>{patient}</td><td>{other}</td>
      <td><Badge tone={urgencyTone[r.urgency]}>{urgencyLabel[r.urgency]}</Badge></td>
      {/* What the GP tells the patient: when to go (accepted), or why not (rejected). */}
      <td>{dateTime(waiting ? r.slaDueAt : r.status === 'accepted' ? (r.appointmentAt ?? r.updatedAt) : r.updatedAt)}</td>
      {r.status === 'rejected' && <td>{rejectionReason(r)}</td>}
    </tr>
  );
}

function ReferralDetail({ id }: { id: string }) {
  const q = useQuery({ queryKey: ['referral', id], queryFn: () => call('getReferral', { params: { id } }), refetchInterval: poll(15_000) });
  if (q.isPending) return <Loading what="转诊" />;
  const r = kept(q);
  if (!r) return <Alert kind="error">{problemText(q.error)}</Alert>;
  const incoming = r.toInstitutionId === currentSession()?.institutionId;
  return (
    <section>
      <Title actions={<>
        <a href={incoming ? '#/clinic/referrals/incoming' : '#/clinic/referrals'}>{incoming ? '返回转入列表' : '返回转出列表'}</a>
        <button type="button" onClick={() => print()}>打印转诊单</button>
        <a class="button" href={`#/clinic/prescribe/${r.personId}/${r.referralId}`}>开处方</a>
      </>}>转诊 {shortId(r.referralId)}</Title>
      <RefreshFailed q={q} />
      <div class="slip">
        <h2 class="print-only">双向转诊单（{r.direction === 'up' ? '上转' : '下转'}）</h2>
        <ReferralSummary r={r} />
        <Qr text={`consortium:referral:${r.referralId}`} label={`转诊单二维码 ${shortId(r.referralId)}`} />
      </div>
      <div class="no-print">
        <ReferralActions key={r.referralId} r={r} />
        <ReferralHistory r={r} />
      </div>
    </section>
  );
}

function Qr({ text, label }: { text: string; label: string }) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  return <img class="qr" src={qr.createDataURL(4, 2)} alt={label} width={qr.getModuleCount() * 4 + 16} />;
}

interface RxLine { drugCode: string; quantity: string; dosage: string }

function PrescribeForm({ personId, referralId }: { personId: string; referralId?: string }) {
  const referral = useQuery({ queryKey: ['referral', referralId], queryFn: () => call('getReferral', { params: { id: referralId! } }), enabled: !!referralId });
  const { label: patient, known } = usePatient(personId, referral.data?.patient);
  const unknown = !known && !(referralId && referral.isPending);
  const drugs = useDrugs();
  const pharmacies = useInstitutions('pharmacy');
  const draft = useSavedDraft<{ diagnoses: string; lines: RxLine[]; pharmacy: string; days?: string; assessment?: string }>(`rx-${personId}`);
  const [diagnoses, setDiagnoses] = useState(draft?.diagnoses ?? '');
  const [lines, setLines] = useState<RxLine[]>(draft?.lines ?? [{ drugCode: '', quantity: '1', dosage: '' }]);
  const [pharmacy, setPharmacy] = useState(draft?.pharmacy ?? '');
  // Days of treatment: up to 28 as usual; a long prescription (长期处方) for a stable chronic disease up to 84,
  // with the doctor's assessment and the patient's consent (asked again after a new login).
  const [days, setDays] = useState(draft?.days ?? String(NORMAL_MAX_SUPPLY_DAYS));
  const [assessment, setAssessment] = useState(draft?.assessment ?? '');
  const [consent, setConsent] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const long = Number(days) > NORMAL_MAX_SUPPLY_DAYS;
  // From a referral: its diagnoses to start with, and the prescription linked to it.
  useEffect(() => {
    if (referral.data && !diagnoses) setDiagnoses(referral.data.diagnoses.join(' '));
  }, [referral.data]);
  const qc = useQueryClient();
  const body = () => ({
    personId, diagnoses: splitCodes(diagnoses),
    items: lines.map((l) => ({ drugCode: l.drugCode, quantity: Number(l.quantity), dosage: l.dosage })),
    ...(pharmacy ? { nominatedPharmacyId: pharmacy } : {}),
    ...(referralId ? { referralId } : {}),
    supplyDays: Number(days),
    // Without consent the field is left out, and the schema says it is required.
    ...(long ? { longTerm: { assessment, ...(consent ? { patientConsent: true as const } : {}) } } : {}),
  });
  // A retried or double submit issues one prescription.
  const attempt = useAttemptKey('rx', [diagnoses, lines, pharmacy, days, assessment, consent]);
  const issue = useMutation({
    // The form as the schema read it (a long prescription's consent is then `true`).
    mutationFn: (checked: PrescriptionRequest) => call('issuePrescription', { body: checked, idempotencyKey: attempt }),
    onSuccess: (p) => {
      forget();
      // Shown at once on the list, which then follows it as the platform routes it.
      qc.setQueryData(['prescription', p.prescriptionId], p);
      madeFor(personId);
      void qc.invalidateQueries({ queryKey: ['prescriptions'] });
      go('clinic', 'prescriptions', p.prescriptionId);
    },
    onError: (e: ApiError) => setErrors(problemToFields(e)),
  });
  // Kept also when the person goes to another screen of the console and back; once sent, not.
  const forget = useDraft(`rx-${personId}`, { diagnoses, lines, pharmacy, days, assessment }, { inFlight: issue.isPending, keepOnLeave: true });
  const submit = (e: Event) => {
    e.preventDefault();
    const v = validate(prescriptionRequest, body());
    if (!v.ok) return setErrors(v.errors);
    setErrors({});
    issue.mutate(v.data);
  };
  const set = (i: number, l: RxLine) => setLines(lines.map((x, j) => (j === i ? l : x)));
  // The button pressed may go with its line: the keyboard goes to the drug of the line now in its place.
  const form = useRef<HTMLFormElement>(null);
  const lineKeys = useLineKeys(lines.length);
  const remove = (i: number) => {
    lineKeys.removed(i);
    setLines(lines.filter((_, j) => j !== i));
    setErrors(withoutLine(errors, 'items', i));
    focusWhenShown(() => form.current?.querySelectorAll<HTMLElement>('.line select')[Math.min(i, lines.length - 2)]);
  };
  return (
    <form ref={form} onSubmit={submit} novalidate>
      <Title tab="开处方">开处方：{patient}</Title>
      {unknown && <UnknownPatient />}
      <FormError errors={errors} />
      <Field label="诊断（ICD-10，空格分隔）" hint="例如 I10" error={listError(errors, 'diagnoses')}>
        {(id, d) => <input id={id} class="mono" value={diagnoses} aria-describedby={d} onInput={(e) => setDiagnoses(e.currentTarget.value.toUpperCase())} />}
      </Field>
      <fieldset>
        <legend>药品（最多 5 种）</legend>
        {lines.map((l, i) => (
          <div class="row line" key={lineKeys.keys[i]} role="group" aria-label={`第 ${i + 1} 种药品`}>
            <Field label="药品" error={errors[`items.${i}.drugCode`]}>{(id, d) => (
              <select id={id} value={l.drugCode} aria-describedby={d} onChange={(e) => set(i, { ...l, drugCode: e.currentTarget.value })}>
                <option value="">请选择</option>
                {(drugs.data ?? []).map((dr) => <option key={dr.drugCode} value={dr.drugCode}>{dr.name}（{categoryLabel[dr.category]}{dr.longTermAllowed ? '' : '，不可长期处方'}）</option>)}
              </select>
            )}</Field>
            <Field label="数量" error={errors[`items.${i}.quantity`]}>{(id, d) => <input id={id} type="number" min={1} value={l.quantity} aria-describedby={d} onInput={(e) => set(i, { ...l, quantity: e.currentTarget.value })} />}</Field>
            <Field label="用法用量" error={errors[`items.${i}.dosage`]}>{(id, d) => <input id={id} value={l.dosage} placeholder="每日一次，每次一片" aria-describedby={d} onInput={(e) => set(i, { ...l, dosage: e.currentTarget.value })} />}</Field>
            {lines.length > 1 && <button type="button" class="link" onClick={() => remove(i)}>删除第 {i + 1} 种</button>}
          </div>
        ))}
        {lines.length < 5 && <button type="button" onClick={() => setLines([...lines, { drugCode: '', quantity: '1', dosage: '' }])}>添加药品</button>}
      </fieldset>
      <Field label="用药天数" narrow error={errors.supplyDays}
        hint={`普通处方不超过 ${NORMAL_MAX_SUPPLY_DAYS} 天；病情稳定的慢病患者可开长期处方，最长 ${MAX_SUPPLY_DAYS} 天（12 周）。每种药每天至多一盒。`}>
        {(id, d) => <input id={id} type="number" min={1} max={MAX_SUPPLY_DAYS} value={days} aria-describedby={d} onInput={(e) => setDays(e.currentTarget.value)} />}
      </Field>
      {long && (
        <fieldset>
          <legend>长期处方（{days} 天）</legend>
          {errors.longTerm && <p class="alert error" role="alert">{errors.longTerm}</p>}
          <Field label="病情评估" hint="病情稳定、需长期用药的依据" error={errors['longTerm.assessment']} wide>
            {(id, d) => <textarea id={id} rows={2} value={assessment} aria-describedby={d} onInput={(e) => setAssessment(e.currentTarget.value)} />}
          </Field>
          <label class="checkbox"><input type="checkbox" checked={consent} aria-invalid={!!errors['longTerm.patientConsent']} aria-describedby={errors['longTerm.patientConsent'] ? 'consent-error' : undefined} onChange={(e) => setConsent(e.currentTarget.checked)} /> 患者已知情并同意长期处方</label>
          {errors['longTerm.patientConsent'] && <p id="consent-error" class="error">{errors['longTerm.patientConsent']}</p>}
          <p class="small muted">抗菌药物等目录标明“不可长期处方”的药品不能开入长期处方。</p>
        </fieldset>
      )}
      <Field label="取药药店" hint="不选则由平台流转到患者所在区有货的定点药店" error={errors.nominatedPharmacyId}>{(id, d) => (
        <select id={id} value={pharmacy} aria-describedby={d} onChange={(e) => setPharmacy(e.currentTarget.value)}>
          <option value="">由平台流转</option>
          {(pharmacies.data ?? []).filter((p) => p.designated).map((p) => <option key={p.id} value={p.id}>{p.name}（{p.district}）</option>)}
        </select>
      )}</Field>
      <button type="submit" class="primary" disabled={unknown} aria-disabled={issue.isPending}>开具处方</button>
    </form>
  );
}

const rxTabs = ['issued', 'routed', 'accepted', 'partially-dispensed', 'dispensed', 'unroutable', 'cancelled', 'expired'] as const satisfies readonly PrescriptionStatus[];

// Asked often only while the new prescription waits to be routed (seconds), backing off if it takes longer.
const untilRouted = poll(3_000);

function Prescriptions({ issued }: { issued?: string }) {
  const qc = useQueryClient();
  // Just issued (开具处方 lands here): the tabs follow it, 已开具 then 已流转 once the platform has
  // routed it, until the GP picks a tab.
  const fresh = useQuery({
    queryKey: ['prescription', issued],
    queryFn: () => call('getPrescription', { params: { id: issued! } }),
    enabled: !!issued,
    refetchInterval: (q) => (q.state.data?.status === 'issued' ? untilRouted(q) : false),
  });
  const [picked, setPicked] = useState<PrescriptionStatus>();
  const [cancelled, setCancelled] = useState<CancelOutcome>();
  const followed = issued && fresh.data && (rxTabs as readonly string[]).includes(fresh.data.status) ? fresh.data.status : undefined;
  const status = picked ?? followed ?? 'routed';
  // When it moves, the lists it left and entered (and their counts) are asked again.
  const was = useRef(followed);
  useEffect(() => {
    if (followed && was.current !== followed) void qc.invalidateQueries({ queryKey: ['prescriptions'] });
    was.current = followed;
  }, [followed]);
  const count = useCounts(rxTabs.map(prescriptionsQuery));
  const name = useDrugName();
  const list = useQuery({ ...prescriptionsQuery(status), refetchInterval: poll(10_000) });
  const data = kept(list);
  void prescriptionStatuses;
  return (
    <section>
      <Title>本机构开具的处方</Title>
      {issued && fresh.data && <IssuedNotice p={fresh.data} />}
      {/* Focused: the row 作废 was pressed on has left this tab. */}
      {cancelled && 'done' in cancelled && <Alert key={cancelled.done.prescriptionId} kind="ok" focus>处方 <strong class="mono">{shortId(cancelled.done.prescriptionId)}</strong> 已作废{cancelled.done.pharmacyId ? '，药店预留的药品已释放' : ''}。</Alert>}
      {cancelled && 'refused' in cancelled && <Alert key={cancelled.refused.prescriptionId} kind="error" focus>处方 <strong class="mono">{shortId(cancelled.refused.prescriptionId)}</strong> 未作废：{cancelled.why}</Alert>}
      {cancelled && 'unknown' in cancelled && <Alert key={cancelled.unknown.prescriptionId} kind="error" focus>处方 <strong class="mono">{shortId(cancelled.unknown.prescriptionId)}</strong> 是否已作废未能确认（网络异常）：请在“已作废”中查看后再操作，不要据此告知患者。</Alert>}
      <CountTabs label="处方状态" current={status} onSelect={setPicked} items={rxTabs.map((s, i) => ({ key: s, label: prescriptionStatusLabel[s], count: count(i) }))} />
      <RefreshFailed q={list} />
      {list.isPending ? <Loading /> : !data ? <Alert kind="error">{problemText(list.error)}</Alert> : data.items.length === 0 ? <Empty>没有{prescriptionStatusLabel[status]}的处方</Empty> : (
        <Scroll label={`${prescriptionStatusLabel[status]}的处方`}><table>
          <caption class="sr-only">{prescriptionStatusLabel[status]}的处方</caption>
          <thead><tr><th scope="col">处方</th><th scope="col">患者</th><th scope="col">药品</th><th scope="col">药店</th><th scope="col">开具时间</th><th scope="col">用药天数</th>{cancellable(status) && <th scope="col"><span class="sr-only">操作</span></th>}</tr></thead>
          <tbody>{data.items.map((p) => (
            <tr key={p.prescriptionId}>
              <td>{shortId(p.prescriptionId)}{p.prescriptionId === issued && <> <Badge tone="ok">新开具</Badge></>}</td><td><PatientCell personId={p.personId} patient={p.patient} /></td>
              <td>{p.items.map((i) => `${name(i.drugCode)} ×${i.quantity}`).join('；')}</td>
              <td><PharmacyCell id={p.pharmacyId} /></td><td>{dateTime(p.issuedAt)}</td>
              <td>{p.supplyDays} 天{p.longTerm ? <> <Badge tone="warn">长期处方</Badge></> : null}</td>
              {cancellable(status) && <td class="actions"><CancelPrescription p={p} onDone={setCancelled} /></td>}
            </tr>
          ))}</tbody>
        </table></Scroll>
      )}
    </section>
  );
}

const cancellable = (s: PrescriptionStatus) => (openPrescriptionStatuses as readonly PrescriptionStatus[]).includes(s);

/**
 * 作废: the prescriber withdraws a prescription not yet (fully) dispensed: one issued by mistake, or
 * in the way of a new one for the same drug. What a pharmacy held for it is released.
 */
function CancelPrescription({ p, onDone }: { p: Prescription; onDone: (outcome: CancelOutcome) => void }) {
  const qc = useQueryClient();
  const patient = usePatientLabel(p.personId, p.patient);
  const cancel = useMutation({
    mutationFn: () => call('cancelPrescription', { params: { id: p.prescriptionId } }),
    onSuccess: (done) => { onDone({ done }); void qc.invalidateQueries({ queryKey: ['prescriptions'] }); },
    // Said above the list: refused because it moved on (dispensed meanwhile), its row leaves this tab.
    // An answer lost (the network, a 5xx) may follow a cancel that was made: read again to say which.
    onError: async (e: ApiError) => {
      void qc.invalidateQueries({ queryKey: ['prescriptions'] });
      if (!outcomeUnknown(e)) return onDone({ refused: p, why: problemText(e) });
      const now = await call('getPrescription', { params: { id: p.prescriptionId } }).catch(() => undefined);
      onDone(now?.status === 'cancelled' ? { done: now } : now ? { refused: p, why: problemText(e) } : { unknown: p });
    },
  });
  const rest = p.status === 'partially-dispensed' ? '已发出的药品不受影响，其余不再配发。' : '药店将不再为其配药。';
  return (
    <button type="button" class="link danger" aria-disabled={cancel.isPending} aria-label={`作废处方 ${shortId(p.prescriptionId)}`}
      onClick={() => !cancel.isPending && confirm(`作废处方 ${shortId(p.prescriptionId)}（${patient}）？${rest}作废后不能恢复。`) && cancel.mutate()}>作废</button>
  );
}
type CancelOutcome = { done: Prescription } | { refused: Prescription; why: string } | { unknown: Prescription };

/** The prescription just issued: its number, and where it went (or is going). */
function IssuedNotice({ p }: { p: Prescription }) {
  const patient = usePatientLabel(p.personId, p.patient);
  const nominated = useInstitutionName(p.nominatedPharmacyId);
  const pharmacy = useInstitutionName(p.pharmacyId);
  const where = p.status === 'issued'
    ? (p.nominatedPharmacyId ? `正在流转至指定药店 ${nominated}…` : '正在由平台流转至患者所在区有货的定点药店…')
    : p.status === 'unroutable' ? '无药店可配：指定药店或患者所在区的定点药店均无货。处方有效期内，这些药店到货或该区新增的定点药店有货时，平台自动流转，无需重开。'
      : p.status === 'routed' || p.status === 'accepted' ? `已流转至 ${pharmacy}，患者可凭医保电子凭证到店取药。`
        : `当前状态：${prescriptionStatusLabel[p.status]}${p.pharmacyId ? `（${pharmacy}）` : ''}。`;
  return (
    <Alert kind={p.status === 'unroutable' ? 'error' : 'ok'}>
      处方已开具：处方号 <strong class="mono">{shortId(p.prescriptionId)}</strong>，患者 {patient}。{where} <a href="#/clinic/prescriptions">知道了</a>
    </Alert>
  );
}

const PatientCell = ({ personId, patient }: { personId: string; patient?: { name: string; nationalIdMasked: string } }) => <>{usePatientLabel(personId, patient)}</>;
const PharmacyCell = ({ id }: { id?: string }) => <>{useInstitutionName(id)}</>;
