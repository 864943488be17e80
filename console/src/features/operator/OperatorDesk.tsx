// The operator desk: the province overview, institutions (list, register and change), enrolment from a CSV
// file in batches of 500, personal-account credits (划入), the drug catalog, the day's alerts (trace codes sold twice, hoarding, prescriptions
// kept after a withdrawal), and a
// person's records for complaint handling.
import { useQuery, useQueryClient } from '@tanstack/preact-query';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Alert as AlertItem } from '#schemas/alerts';
import { drugCategories, drugInput, institutionInput, institutionLevels, institutionTypes } from '#schemas/institutions';
import { referralStatuses } from '#schemas/referrals';
import { useDayParam } from '../../app/router.ts';
import { allPages, ApiError, call, etagOf } from '../../lib/api.ts';
import { date, dateTime, shortId } from '../../lib/format.ts';
import { problemToFields, validate, type FieldErrors } from '../../lib/forms.ts';
import { alertTypeLabel, categoryLabel, institutionTypeLabel, levelLabel, problemText, referralStatusLabel } from '../../lib/labels.ts';
import { useDraft, useSavedDraft } from '../../lib/drafts.ts';
import { useMutation } from '../../lib/mutation.ts';
import { poll } from '../../lib/polling.ts';
import { useDrugName, useDrugs, useInstitutionName, useInstitutions } from '../../shared/names.ts';
import { Alert, Badge, Empty, Field, FormError, kept, Loading, Money, RefreshFailed, Scroll, Title } from '../../shared/ui.tsx';
import { Credits } from './Credits.tsx';
import { Enrol } from './Enrol.tsx';
import { PersonRecords } from './People.tsx';

export const operatorNav = [
  { section: '', label: '全省概览' },
  { section: 'institutions', label: '机构' },
  { section: 'enrol', label: '参保登记' },
  { section: 'credits', label: '个人账户划入' },
  { section: 'drugs', label: '药品目录' },
  { section: 'alerts', label: '预警' },
  { section: 'people', label: '个人记录' },
] as const;

export function OperatorDesk({ path }: { path: string[] }) {
  switch (path[0]) {
    case 'institutions': return <Institutions />;
    case 'enrol': return <Enrol />;
    case 'credits': return <Credits />;
    case 'drugs': return <Drugs />;
    case 'alerts': return <Alerts />;
    case 'people': return <PersonRecords />;
    default: return <Overview />;
  }
}

/**
 * The day a screen shows (today unless one was picked; app/router.ts keeps a picked one in the
 * address, for a reload and Back), with its date field and, for a date in the address that is no
 * day, the notice that says today is shown instead.
 */
function useDayField() {
  const { day, today, pick, badDay } = useDayParam();
  const input = (id: string) => <input id={id} type="date" value={day} max={today} onInput={(e) => { const v = e.currentTarget.value; if (v) pick(v); }} />;
  const notice = badDay && <Alert kind="info">地址中的日期“{badDay.asked}”{badDay.why}，已显示今日。</Alert>;
  return { day, input, notice };
}

function Overview() {
  const { day, input, notice } = useDayField();
  const q = useQuery({ queryKey: ['overview', day], queryFn: () => call('getOverview', { query: { date: day } }), refetchInterval: poll(30_000) });
  const o = kept(q);
  return (
    <section>
      <Title>全省概览</Title>
      {notice}
      <Field label="日期" narrow>{input}</Field>
      <RefreshFailed q={q} />
      {q.isPending ? <Loading /> : !o ? <Alert kind="error">{problemText(q.error)}</Alert> : <>
        <h2>{date(o.date)} 医保结算（不含冲正）</h2>
        <dl class="totals">
          <div><dt>笔数</dt><dd>{o.settlements.count}</dd></div>
          <div><dt>费用总额</dt><dd><Money fen={o.settlements.totalFen} /></dd></div>
          <div><dt>统筹支付</dt><dd><Money fen={o.settlements.pooledFundFen} /></dd></div>
          <div><dt>个人账户</dt><dd><Money fen={o.settlements.personalAccountFen} /></dd></div>
          <div><dt>家庭共济</dt><dd><Money fen={o.settlements.mutualAidFen} /></dd></div>
          <div><dt>现金</dt><dd><Money fen={o.settlements.cashFen} /></dd></div>
          <div><dt>冲正</dt><dd>{o.settlements.reversedCount} 笔 · <Money fen={o.settlements.reversedFen} /></dd></div>
        </dl>
        <h2>转诊</h2>
        <table>
          <caption class="sr-only">转诊按状态</caption>
          <thead><tr><th scope="col">状态</th><th scope="col" class="num">当前数量</th><th scope="col" class="num">当日进入</th></tr></thead>
          <tbody>{referralStatuses.map((s) => <tr key={s}><td>{referralStatusLabel[s]}</td><td class="num">{o.referrals.byStatus[s]}</td><td class="num">{o.referrals.enteredOnDate[s]}</td></tr>)}</tbody>
        </table>
        <p class="muted small">数据截至 {dateTime(o.asOf)}，由业务事件汇总，可能有数秒延迟。</p>
      </>}
    </section>
  );
}

/** A department row; `key` stays with the row when one above it is removed. */
interface Dept { key: number; code: string; name: string; dailyCapacity: string }

/** The form's errors once department row `removed` is gone: its own dropped, those below moved up a row. */
function withoutDept(errors: FieldErrors, removed: number): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, message] of Object.entries(errors)) {
    const m = /^departments\.(\d+)(\..*)?$/.exec(path);
    const i = m ? Number(m[1]) : -1;
    if (i === removed) continue;
    out[i > removed ? `departments.${i - 1}${m![2] ?? ''}` : path] = message;
  }
  return out;
}

/** The registration form's own fields: an error on another path (the department list as a whole) is said above the form. */
const onForm = (path: string) => ['id', 'name', 'district', 'leadHospitalId'].includes(path) || /^departments\.\d+\.(code|name|dailyCapacity)$/.test(path);

/** The department rows whose code another row has too, marked on each (the API names only the list). */
function repeatedCodes(depts: Dept[]): FieldErrors {
  const errors: FieldErrors = {};
  depts.forEach((d, i) => {
    const others = depts.flatMap((o, j) => (j !== i && d.code.trim() && o.code.trim() === d.code.trim() ? [j + 1] : []));
    if (others.length) errors[`departments.${i}.code`] = `科室编码重复：与科室 ${others.join('、')} 相同`;
  });
  return errors;
}

/** A blank 日接诊量 is no capacity at all, not 0 (Number('') is 0): the schema then says 必填 on it. */
const capacity = (text: string) => (text.trim() === '' ? undefined : Number(text));

type Institution = NonNullable<ReturnType<typeof useInstitutions>['data']>[number];

/**
 * What withdrawing its designation does, for this kind of institution: a clinic neither settles nor
 * answers questions; what stops for it is receiving down referrals.
 */
const withdrawalEffects: Record<Institution['type'], string> = {
  pharmacy: '该机构不能再进行医保结算，也不再被分派新的处方；已流转到该药店、尚未收费（或收费已冲正）也未发药的处方由平台改派到其他定点药店，已收费或已部分发药的处方留在该药店办完',
  hospital: '该机构不能再进行医保结算，也不再被分派新的转诊与会诊咨询',
  clinic: '该机构不再被分派新的下转患者（医院下转时不能再选择它；已下转到该机构的照常办理），它发起的转诊、处方和会诊咨询照常',
};
const withdrawalQuestion = (i: Institution) => `取消 ${i.name} 的医保定点？5 分钟内起，${withdrawalEffects[i.type]}。`;

/** What an institution's record decides, by its type: what a change to it reaches within 5 minutes (the platform's cache). */
const followsWithin = {
  pharmacy: '医保结算与处方流转',
  hospital: '医保结算及转诊、会诊咨询的分配',
  clinic: '该机构发起的转诊、处方及下转的分配',
} as const;

function Institutions() {
  const [type, setType] = useState<'' | (typeof institutionTypes)[number]>('');
  const list = useInstitutions(type || undefined);
  // The institution whose 修改 was pressed: the form below then edits it (the list's copy is what GET
  // gives). Kept, with the form's own draft, on another screen and back, and across a reload.
  const draft = useSavedDraft<{ editing: Institution; stale: boolean } | null>('institutions');
  const [editing, setEditing] = useState<Institution | undefined>(draft?.editing);
  const [saved, setSaved] = useState<string>();
  // Said on the form when the institution was changed elsewhere since the copy it was filled from.
  const [stale, setStale] = useState(draft?.stale ?? false);
  useDraft('institutions', editing ? { editing, stale } : null, { keepOnLeave: true });
  // Asks the form whether it may give way to another institution's (InstitutionForm's `leaving`).
  const mayLeave = useRef<(next: Institution) => boolean>();
  const edit = (i: Institution, changedElsewhere = false) => {
    if (!changedElsewhere && mayLeave.current && !mayLeave.current(i)) return;
    setSaved(undefined);
    setStale(changedElsewhere);
    setEditing(i);
  };
  const done = (message?: string, id?: string) => {
    setSaved(message);
    setEditing(undefined);
    // Back to the row the operator came from.
    if (id) requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-edit="${CSS.escape(id)}"]`)?.focus());
  };
  return (
    <section>
      <Title>机构</Title>
      <Field label="类型">{(id) => (
        <select id={id} value={type} onChange={(e) => setType(e.currentTarget.value as typeof type)}>
          <option value="">全部</option>
          {institutionTypes.map((t) => <option key={t} value={t}>{institutionTypeLabel[t]}</option>)}
        </select>
      )}</Field>
      <RefreshFailed q={list} then="回到本页时将再次读取" />
      {list.isPending ? <Loading /> : !kept(list) ? <Alert kind="error">机构列表无法读取：{problemText(list.error)}</Alert> : (
        <Scroll label="已登记机构"><table>
          <caption class="sr-only">已登记机构</caption>
          <thead><tr><th scope="col">名称</th><th scope="col">编码</th><th scope="col">类型</th><th scope="col">级别</th><th scope="col">区县</th><th scope="col">定点</th><th scope="col"><span class="sr-only">操作</span></th></tr></thead>
          <tbody>{kept(list)!.map((i) => (
            <tr key={i.id}><td>{i.name}</td><td class="mono">{i.id}</td><td>{institutionTypeLabel[i.type]}</td><td>{i.level ? levelLabel[i.level] : '—'}</td><td>{i.district}</td><td>{i.designated ? <Badge tone="ok">定点</Badge> : <Badge>非定点</Badge>}</td>
              <td class="actions"><button type="button" class="link" data-edit={i.id} onClick={() => edit(i)}>修改 {i.name}</button></td></tr>
          ))}</tbody>
        </table></Scroll>
      )}
      {saved && <Alert kind="ok" said>{saved}</Alert>}
      {/* Keyed by the version too: a copy read again after a 412 fills the form afresh. */}
      <InstitutionForm key={editing ? `${editing.id}#${editing.version}` : 'new'} editing={editing} stale={stale} onDone={done} onChanged={(fresh) => edit(fresh, true)} leaving={mayLeave} />
    </section>
  );
}

/**
 * 登记机构, or 修改机构 when `editing` is given: the same fields, the id and type then fixed (PUT
 * keeps them). What the form has no field for (the location, createdAt) goes back as GET gave it.
 */
function InstitutionForm({ editing, stale, onDone, onChanged, leaving }: {
  editing?: Institution;
  stale?: boolean;
  onDone: (message?: string, id?: string) => void;
  /** Changed elsewhere since `editing` was read (412): the institution as it is now. */
  onChanged: (fresh: Institution) => void;
  /** Set to what 修改 on a row asks first: whether this form may give way to that institution's. */
  leaving: { current?: (next: Institution) => boolean };
}) {
  const hospitals = useInstitutions('hospital');
  const qc = useQueryClient();
  const initialForm = {
    id: editing?.id ?? '', name: editing?.name ?? '', type: editing?.type ?? ('clinic' as (typeof institutionTypes)[number]), level: editing?.level ?? '',
    district: editing?.district ?? '', designated: editing?.designated ?? true, leadHospitalId: editing?.leadHospitalId ?? '',
  };
  const initialDepts = (editing?.departments ?? []).map((d, key): Dept => ({ key, code: d.code, name: d.name, dailyCapacity: String(d.dailyCapacity) }));
  // What was typed here before the operator went to another screen or reloaded (drafts.ts), for this copy of the institution.
  const draftKey = editing ? `institution-${editing.id}#${editing.version}` : 'institution-new';
  const draft = useSavedDraft<{ form: typeof initialForm; depts: Dept[] } | null>(draftKey);
  // The form as this copy of the institution fills it: a draft, or the form now, that differs holds an edit.
  const asFilled = JSON.stringify({ form: initialForm, depts: initialDepts });
  const [restored] = useState(() => !!editing && !!draft && JSON.stringify(draft) !== asFilled);
  const [form, setForm] = useState(draft?.form ?? initialForm);
  const [depts, setDepts] = useState<Dept[]>(draft?.depts ?? initialDepts);
  const nextDept = useRef(Math.max(-1, ...depts.map((d) => d.key)) + 1);
  // 修改 pressed on another institution: an edit begun here is asked about, and if given up not kept
  // (it came back, said to be restored, the next time this institution was edited). The register
  // form's draft is kept, for when the edit is done.
  leaving.current = (next) => {
    if (!editing || (next.id === editing.id && next.version === editing.version)) return true;
    if (JSON.stringify({ form, depts }) !== asFilled && !confirm(`放弃对 ${editing.name} 尚未保存的修改？`)) return false;
    finish();
    return true;
  };
  const [errors, setErrors] = useState<FieldErrors>({});
  const [created, setCreated] = useState<string>();
  const addDept = useRef<HTMLButtonElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!editing) return;
    // The form is below a list that can be long: bring it into view, at its first field that can change.
    formRef.current?.scrollIntoView({ block: 'start' });
    formRef.current?.querySelector<HTMLElement>('input:not([readonly])')?.focus({ preventScroll: true });
  }, []);
  const fields = () => ({
    id: form.id.trim(), name: form.name, type: form.type, district: form.district, designated: form.designated,
    ...(form.level && form.type !== 'pharmacy' ? { level: form.level } : {}),
    ...(editing?.location ? { location: editing.location } : {}),
    ...(form.type === 'clinic' && form.leadHospitalId ? { leadHospitalId: form.leadHospitalId } : {}),
    ...(form.type !== 'pharmacy' && depts.length ? { departments: depts.map((d) => ({ code: d.code, name: d.name, dailyCapacity: capacity(d.dailyCapacity) })) } : {}),
  });
  const register = useMutation({
    mutationFn: () => call('registerInstitution', { body: fields() as never }),
    onSuccess: (inst) => { setCreated(inst.name); setErrors({}); setDepts([]); setForm({ ...form, id: '', name: '' }); void qc.invalidateQueries({ queryKey: ['institutions'] }); },
    onError: (e: ApiError) => {
      const found = problemToFields(e, onForm);
      // A code already registered is the 机构编码 field's fault: say so there too (Field then takes
      // the keyboard to it, as to any first invalid field).
      if (e instanceof ApiError && e.slug === 'conflict') found.id = problemText(e);
      setErrors(found);
    },
  });
  const save = useMutation({
    // If-Match: the version this form was filled from. Another operator's change since is a 412,
    // never overwritten with what this form still shows.
    mutationFn: () => call('updateInstitution', { params: { id: editing!.id }, ifMatch: etagOf(editing!), body: fields() as never }),
    onSuccess: (inst) => {
      finish();
      void qc.invalidateQueries({ queryKey: ['institutions'] });
      // A pharmacy designated now takes at once what waits in its district for drugs it has.
      const waiting = inst.type === 'pharmacy' && inst.designated && (!editing!.designated || editing!.district !== inst.district)
        ? `；${inst.district}患者因无药店可配而等待的处方，平台随即重新流转，该药店有货的可流转到该药店` : '';
      onDone(`已保存：${inst.name}。${followsWithin[inst.type]}在 5 分钟内按新信息执行${waiting}`, inst.id);
    },
    onError: async (e: ApiError) => {
      if (e instanceof ApiError && e.slug === 'precondition-failed') {
        void qc.invalidateQueries({ queryKey: ['institutions'] });
        try {
          const fresh = await call('getInstitution', { params: { id: editing!.id } });
          finish();
          return onChanged(fresh);
        } catch (again) {
          return setErrors({ '': problemText(again) });
        }
      }
      setErrors(problemToFields(e, onForm));
    },
  });
  // The keyboard goes on to the new row's code, not left on the button (three Shift+Tabs away).
  const [focusRow, setFocusRow] = useState<number>();
  useEffect(() => {
    if (focusRow === undefined) return;
    formRef.current?.querySelector<HTMLInputElement>(`[role="group"][aria-label="科室 ${focusRow + 1}"] input`)?.focus();
    setFocusRow(undefined);
  }, [focusRow]);
  const addRow = () => {
    setDepts([...depts, { key: nextDept.current++, code: '', name: '', dailyCapacity: '10' }]);
    setFocusRow(depts.length);
  };
  const removeDept = (i: number) => {
    setDepts(depts.filter((_, j) => j !== i));
    setErrors(withoutDept(errors, i));
    // The button pressed is gone; without this, focus would fall back to the page.
    addDept.current?.focus();
  };
  const submit = (e: Event) => {
    e.preventDefault();
    setCreated(undefined);
    const v = validate(institutionInput, fields(), onForm);
    const found = { ...(v.ok ? {} : v.errors), ...(form.type !== 'pharmacy' ? repeatedCodes(depts) : {}) };
    setErrors(found);
    if (Object.keys(found).length) return;
    if (!editing) return register.mutate();
    // Withdrawing a designation stops the institution's settlements and routing: asked first, in
    // the words of what it does (a pharmacy is sent prescriptions, a hospital referrals).
    if (editing.designated && !form.designated && !confirm(withdrawalQuestion(editing))) return;
    save.mutate();
  };
  const busy = register.isPending || save.isPending;
  // Saved, cancelled or read again after a 412: nothing to keep (finish).
  const finish = useDraft(draftKey, { form, depts }, { keepOnLeave: true, inFlight: busy });
  return (
    <form ref={formRef} onSubmit={submit} novalidate class="panel">
      <h2>{editing ? '修改机构' : '登记机构'}</h2>
      {editing && <p class="alert info">正在修改 {editing.name}（<span class="mono">{editing.id}</span>）。机构编码与类型不可更改。</p>}
      {editing && stale && <Alert kind="error">该机构刚被他人修改，未保存您的修改。下方已载入其最新信息，请核对后重新修改并保存。</Alert>}
      {restored && <Alert kind="info">已恢复您离开本页前尚未保存的修改，请核对后保存，或取消修改。</Alert>}
      {created && <Alert kind="ok" said>已登记：{created}</Alert>}
      <FormError errors={errors} />
      <div class="row">
        <Field label="机构编码" error={errors.id}>{(id, d) => <input id={id} class="mono" value={form.id} readOnly={!!editing} aria-describedby={d} onInput={(e) => setForm({ ...form, id: e.currentTarget.value })} />}</Field>
        <Field label="名称" error={errors.name}>{(id, d) => <input id={id} value={form.name} aria-describedby={d} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />}</Field>
        <Field label="类型">{(id) => <select id={id} value={form.type} disabled={!!editing} onChange={(e) => { const type = e.currentTarget.value as typeof form.type; setForm({ ...form, type, ...(type === 'pharmacy' ? { level: '' } : {}) }); }}>{institutionTypes.map((t) => <option key={t} value={t}>{institutionTypeLabel[t]}</option>)}</select>}</Field>
        {form.type !== 'pharmacy' && <Field label="级别">{(id) => <select id={id} value={form.level} onChange={(e) => setForm({ ...form, level: e.currentTarget.value })}><option value="">{/* Left out, the platform records a level (functions/institutions/domain.ts effectiveLevel): said here, not found later. */}未定级（按{form.type === 'hospital' ? '二级' : '一级'}）</option>{institutionLevels.map((l) => <option key={l} value={l}>{levelLabel[l]}</option>)}</select>}</Field>}
        <Field label="区县" error={errors.district}>{(id, d) => <input id={id} value={form.district} aria-describedby={d} onInput={(e) => setForm({ ...form, district: e.currentTarget.value })} />}</Field>
        {form.type === 'clinic' && <Field label="牵头医院" error={errors.leadHospitalId}>{(id, d) => <select id={id} value={form.leadHospitalId} aria-describedby={d} onChange={(e) => setForm({ ...form, leadHospitalId: e.currentTarget.value })}><option value="">无</option>{(hospitals.data ?? []).map((h) => <option key={h.id} value={h.id}>{h.name}</option>)}</select>}</Field>}
      </div>
      <label class="checkbox"><input type="checkbox" checked={form.designated} onChange={(e) => setForm({ ...form, designated: e.currentTarget.checked })} /> 医保定点机构</label>
      {form.type !== 'pharmacy' && (
        <fieldset>
          <legend>科室</legend>
          {depts.map((d, i) => (
            <div class="row line" key={d.key} role="group" aria-label={`科室 ${i + 1}`}>
              <Field label="科室编码" error={errors[`departments.${i}.code`]}>{(id, dd) => <input id={id} class="mono" value={d.code} aria-describedby={dd} onInput={(e) => setDepts(depts.map((x, j) => (j === i ? { ...d, code: e.currentTarget.value } : x)))} />}</Field>
              <Field label="科室名称" error={errors[`departments.${i}.name`]}>{(id, dd) => <input id={id} value={d.name} aria-describedby={dd} onInput={(e) => setDepts(depts.map((x, j) => (j === i ? { ...d, name: e.currentTarget.value } : x)))} />}</Field>
              <Field label="日接诊量" error={errors[`departments.${i}.dailyCapacity`]}>{(id, dd) => <input id={id} type="number" min={0} value={d.dailyCapacity} aria-describedby={dd} onInput={(e) => setDepts(depts.map((x, j) => (j === i ? { ...d, dailyCapacity: e.currentTarget.value } : x)))} />}</Field>
              <button type="button" class="link" onClick={() => removeDept(i)}>删除科室 {i + 1}</button>
            </div>
          ))}
          <button type="button" ref={addDept} onClick={addRow}>添加科室</button>
        </fieldset>
      )}
      <div class="buttons">
        <button type="submit" class="primary" aria-disabled={busy}>{editing ? '保存修改' : '登记'}</button>
        {editing && <button type="button" onClick={() => { finish(); onDone(undefined, editing.id); }}>取消修改</button>}
      </div>
    </form>
  );
}

const blankDrug = { drugCode: '', name: '', category: 'A' as (typeof drugCategories)[number], unit: '盒', longTermAllowed: true };

function Drugs() {
  const drugs = useDrugs();
  const qc = useQueryClient();
  const [form, setForm] = useState(blankDrug);
  // The drug whose 编辑 was pressed. Its code is the key of the PUT: while it is set the code cannot
  // be changed, which before silently saved a second drug under the new code.
  const [editing, setEditing] = useState<{ drugCode: string; name: string }>();
  // Bumped by each 编辑, so that pressing it again (another row, or the same) moves focus again.
  const [editRequest, setEditRequest] = useState(0);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string>();
  const formRef = useRef<HTMLFormElement>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  const noticeId = 'drug-editing';
  useEffect(() => {
    if (!editRequest) return;
    // The form is below a list that can be long: bring it into view and start at the first field
    // that can change (the code cannot).
    formRef.current?.scrollIntoView({ block: 'start' });
    nameInput.current?.focus({ preventScroll: true });
  }, [editRequest]);
  const edit = (d: NonNullable<typeof drugs.data>[number]) => {
    setForm({ drugCode: d.drugCode, name: d.name, category: d.category, unit: d.unit, longTermAllowed: d.longTermAllowed });
    setEditing({ drugCode: d.drugCode, name: d.name });
    setErrors({});
    setSaved(undefined);
    setEditRequest((n) => n + 1);
  };
  const cancel = () => {
    const code = editing?.drugCode;
    setForm(blankDrug);
    setEditing(undefined);
    setErrors({});
    // Back to the row the operator came from.
    if (code) document.querySelector<HTMLElement>(`[data-edit="${CSS.escape(code)}"]`)?.focus();
  };
  const save = useMutation({
    mutationFn: () => call('putDrug', { params: { drugCode: form.drugCode }, body: { name: form.name, category: form.category, unit: form.unit, longTermAllowed: form.longTermAllowed } }),
    onSuccess: (d) => { setSaved(d.name); setErrors({}); setEditing(undefined); setForm(blankDrug); void qc.invalidateQueries({ queryKey: ['drugs'] }); },
    onError: (e: ApiError) => setErrors(problemToFields(e)),
  });
  const submit = (e: Event) => {
    e.preventDefault();
    setSaved(undefined);
    const v = validate(drugInput, { name: form.name, category: form.category, unit: form.unit, longTermAllowed: form.longTermAllowed });
    if (!v.ok) return setErrors(v.errors);
    if (!/^[A-Z0-9][A-Z0-9-]{2,31}$/.test(form.drugCode)) return setErrors({ drugCode: '药品编码：大写字母与数字，3–32位' });
    setErrors({});
    save.mutate();
  };
  // A new drug typed under a code already in the catalog would replace that drug: say so before saving.
  const catalog = kept(drugs);
  const existing = editing ? undefined : catalog?.find((d) => d.drugCode === form.drugCode);
  const unchecked = !editing && !catalog && !drugs.isPending && form.drugCode !== '';
  const describedBy = (d: string | undefined) => [d, editing ? noticeId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <section>
      <Title>药品目录</Title>
      <RefreshFailed q={drugs} then="回到本页时将再次读取" />
      {/* Not an empty catalogue: 新增 could then replace a drug without the 已有此编码 warning. */}
      {drugs.isPending ? <Loading /> : !catalog ? <Alert kind="error">药品目录无法读取：{problemText(drugs.error)}</Alert> : catalog.length === 0 ? <Empty>目录为空</Empty> : (
        <Scroll label="药品目录"><table>
          <caption class="sr-only">药品目录</caption>
          <thead><tr><th scope="col">编码</th><th scope="col">名称</th><th scope="col">医保类别</th><th scope="col">单位</th><th scope="col">长期处方</th><th scope="col"><span class="sr-only">操作</span></th></tr></thead>
          <tbody>{catalog.map((d) => (
            <tr key={d.drugCode}><td class="mono">{d.drugCode}</td><td>{d.name}</td><td>{categoryLabel[d.category]}</td><td>{d.unit}</td>
              <td>{d.longTermAllowed ? '可' : <Badge tone="warn">不可</Badge>}</td>
              <td class="actions"><button type="button" class="link" data-edit={d.drugCode} onClick={() => edit(d)}>编辑 {d.name}</button></td></tr>
          ))}</tbody>
        </table></Scroll>
      )}
      <form ref={formRef} onSubmit={submit} novalidate class="panel">
        <h2>{editing ? '修改药品' : '新增或修改药品'}</h2>
        {editing && <p id={noticeId} class="alert info">正在修改 {editing.name}（<span class="mono">{editing.drugCode}</span>）。药品编码不可更改；要新增药品，请先取消修改。</p>}
        {saved && <Alert kind="ok" said>已保存：{saved}</Alert>}
        <FormError errors={errors} />
        <div class="row">
          <Field label="药品编码" error={errors.drugCode} hint={existing ? `目录中已有此编码：${existing.name}。保存将修改该药品` : unchecked ? '目录未能读取，无法核对此编码是否已有药品：已有则保存将修改该药品' : undefined}>
            {(id, d) => <input id={id} class="mono" value={form.drugCode} readOnly={!!editing} aria-describedby={describedBy(d)} onInput={(e) => setForm({ ...form, drugCode: e.currentTarget.value.toUpperCase() })} />}
          </Field>
          <Field label="名称" error={errors.name}>{(id, d) => <input id={id} ref={nameInput} value={form.name} aria-describedby={describedBy(d)} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />}</Field>
          <Field label="医保类别">{(id) => <select id={id} value={form.category} onChange={(e) => setForm({ ...form, category: e.currentTarget.value as typeof form.category })}>{drugCategories.map((c) => <option key={c} value={c}>{categoryLabel[c]}</option>)}</select>}</Field>
          <Field label="单位" error={errors.unit}>{(id, d) => <input id={id} value={form.unit} aria-describedby={d} onInput={(e) => setForm({ ...form, unit: e.currentTarget.value })} />}</Field>
        </div>
        <label class="checkbox"><input type="checkbox" checked={form.longTermAllowed} onChange={(e) => setForm({ ...form, longTermAllowed: e.currentTarget.checked })} /> 可开入长期处方（慢病用药；抗菌药物等不可）</label>
        <div class="buttons">
          <button type="submit" class="primary" aria-disabled={save.isPending}>保存</button>
          {editing && <button type="button" onClick={cancel}>取消修改</button>}
        </div>
      </form>
    </section>
  );
}

/** The day's alerts: trace codes sold twice (an attempt refused at a counter), prescribers holding a district's stock, prescriptions kept at a pharmacy no longer designated. */
function Alerts() {
  const { day, input, notice } = useDayField();
  const list = useQuery({
    queryKey: ['alerts', day],
    queryFn: async () => (await allPages((nextToken) => call('listAlerts', { query: { date: day, limit: 200, nextToken } }))).items,
    refetchInterval: poll(30_000),
  });
  const alerts = kept(list);
  return (
    <section>
      <Title>预警</Title>
      {notice}
      <Field label="日期" narrow>{input}</Field>
      <RefreshFailed q={list} />
      {list.isPending ? <Loading /> : !alerts ? <Alert kind="error">{problemText(list.error)}</Alert> : alerts.length === 0 ? <Empty>{date(day)} 没有预警</Empty> : (
        <Scroll label={`${date(day)} 的预警`}><table>
          <caption class="sr-only">{date(day)} 的预警</caption>
          <thead><tr><th scope="col">时间</th><th scope="col">类型</th><th scope="col">机构</th><th scope="col">详情</th></tr></thead>
          <tbody>{alerts.map((a) => <AlertRow key={a.alertId} a={a} />)}</tbody>
        </table></Scroll>
      )}
    </section>
  );
}

function AlertRow({ a }: { a: AlertItem }) {
  const institution = useInstitutionName(a.institutionId);
  const drug = useDrugName();
  const d = a.details;
  const list = (v: unknown) => (Array.isArray(v) ? v.join('、') : String(v ?? ''));
  return (
    <tr>
      <td>{dateTime(a.at)}</td>
      <td><Badge tone="danger">{alertTypeLabel[a.type]}</Badge></td>
      <td>{institution}</td>
      <td>{a.type === 'trace-code-reused'
        ? <>已售追溯码再次结算，被拒绝：<span class="mono">{list(d.codes)}</span>{Array.isArray(d.soldAt) && <FirstSales codes={d.codes} at={d.soldAt} settlements={d.soldIn} />}</>
        : a.type === 'designation-withdrawn-kept'
          ? <KeptPrescriptions count={Number(d.keptPrescriptions ?? 0)} ids={Array.isArray(d.prescriptionIds) ? d.prescriptionIds.map(String) : []} />
          : <>{String(d.district ?? '')} · {drug(String(d.drugCode ?? ''))}：其处方预留 {String(d.heldUnits ?? '')}，区内在库 {String(d.districtOnHandUnits ?? '')}</>}</td>
    </tr>
  );
}

/** A pharmacy's prescriptions left with it when its designation was withdrawn: who to call. */
function KeptPrescriptions({ count, ids }: { count: number; ids: string[] }) {
  return <>取消医保定点时，{count} 张处方已收费或已部分发药，留在该药店办完；其中未收费的药品在该药店不能再用医保结算，请联系药店与患者：<span class="mono">{ids.map(shortId).join('、')}</span>{count > ids.length && ` 等 ${count} 张`}</>;
}

/** Where each code was sold first (soldAt, soldIn in the order of codes): the other pharmacy to ask. */
function FirstSales({ codes, at, settlements }: { codes: unknown; at: unknown[]; settlements: unknown }) {
  const ids = Array.isArray(settlements) ? settlements : [];
  const names = Array.isArray(codes) ? codes : [];
  return <ul class="plain">{at.map((inst, i) => <li key={i}>{names.length > 1 && <span class="mono">{String(names[i])} </span>}首次售出：<InstitutionName id={String(inst)} />，结算 <span class="mono">{shortId(String(ids[i] ?? ''))}</span></li>)}</ul>;
}

function InstitutionName({ id }: { id: string }) {
  return <>{useInstitutionName(id)}</>;
}
