// The operator desk: the province overview, institutions (list and register), enrolment from a CSV
// file in batches of 500, the drug catalog, the day's alerts (trace codes sold twice, hoarding), and a
// person's records for complaint handling.
import { useQuery, useQueryClient } from '@tanstack/preact-query';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Alert as AlertItem } from '#schemas/alerts';
import { drugCategories, drugInput, institutionInput, institutionLevels, institutionTypes } from '#schemas/institutions';
import { referralStatuses } from '#schemas/referrals';
import { allPages, ApiError, call } from '../../lib/api.ts';
import { calendarDay, date, dateTime } from '../../lib/format.ts';
import { problemToFields, translate, validate, type FieldErrors } from '../../lib/forms.ts';
import { alertTypeLabel, categoryLabel, institutionTypeLabel, levelLabel, problemText, referralStatusLabel } from '../../lib/labels.ts';
import { useMutation } from '../../lib/mutation.ts';
import { poll } from '../../lib/polling.ts';
import { useDrugName, useDrugs, useInstitutionName, useInstitutions } from '../../shared/names.ts';
import { Alert, announce, Badge, Empty, Field, focusWhenShown, FormError, Loading, Money, Scroll, Title } from '../../shared/ui.tsx';
import { columnLabel, readPeople, type Parsed, type RowError } from './csv.ts';
import { PersonRecords } from './People.tsx';

export const operatorNav = [
  { section: '', label: '全省概览' },
  { section: 'institutions', label: '机构' },
  { section: 'enrol', label: '参保登记' },
  { section: 'drugs', label: '药品目录' },
  { section: 'alerts', label: '预警' },
  { section: 'people', label: '个人记录' },
] as const;

export function OperatorDesk({ path }: { path: string[] }) {
  switch (path[0]) {
    case 'institutions': return <Institutions />;
    case 'enrol': return <Enrol />;
    case 'drugs': return <Drugs />;
    case 'alerts': return <Alerts />;
    case 'people': return <PersonRecords />;
    default: return <Overview />;
  }
}

function Overview() {
  const [day, setDay] = useState(calendarDay());
  const q = useQuery({ queryKey: ['overview', day], queryFn: () => call('getOverview', { query: { date: day } }), refetchInterval: poll(30_000) });
  return (
    <section>
      <Title>全省概览</Title>
      <Field label="日期" narrow>{(id) => <input id={id} type="date" value={day} max={calendarDay()} onInput={(e) => e.currentTarget.value && setDay(e.currentTarget.value)} />}</Field>
      {q.isPending ? <Loading /> : q.isError ? <Alert kind="error">{problemText(q.error)}</Alert> : <>
        <h2>{date(q.data.date)} 医保结算（不含冲正）</h2>
        <dl class="totals">
          <div><dt>笔数</dt><dd>{q.data.settlements.count}</dd></div>
          <div><dt>费用总额</dt><dd><Money fen={q.data.settlements.totalFen} /></dd></div>
          <div><dt>统筹支付</dt><dd><Money fen={q.data.settlements.pooledFundFen} /></dd></div>
          <div><dt>个人账户</dt><dd><Money fen={q.data.settlements.personalAccountFen} /></dd></div>
          <div><dt>家庭共济</dt><dd><Money fen={q.data.settlements.mutualAidFen} /></dd></div>
          <div><dt>现金</dt><dd><Money fen={q.data.settlements.cashFen} /></dd></div>
          <div><dt>冲正</dt><dd>{q.data.settlements.reversedCount} 笔 · <Money fen={q.data.settlements.reversedFen} /></dd></div>
        </dl>
        <h2>转诊</h2>
        <table>
          <caption class="sr-only">转诊按状态</caption>
          <thead><tr><th scope="col">状态</th><th scope="col" class="num">当前数量</th><th scope="col" class="num">当日进入</th></tr></thead>
          <tbody>{referralStatuses.map((s) => <tr key={s}><td>{referralStatusLabel[s]}</td><td class="num">{q.data.referrals.byStatus[s]}</td><td class="num">{q.data.referrals.enteredOnDate[s]}</td></tr>)}</tbody>
        </table>
        <p class="muted small">数据截至 {dateTime(q.data.asOf)}，由业务事件汇总，可能有数秒延迟。</p>
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

function Institutions() {
  const [type, setType] = useState<'' | (typeof institutionTypes)[number]>('');
  const list = useInstitutions(type || undefined);
  const hospitals = useInstitutions('hospital');
  const qc = useQueryClient();
  const [form, setForm] = useState({ id: '', name: '', type: 'clinic' as (typeof institutionTypes)[number], level: '', district: '', designated: true, leadHospitalId: '' });
  const [depts, setDepts] = useState<Dept[]>([]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [created, setCreated] = useState<string>();
  const nextDept = useRef(0);
  const addDept = useRef<HTMLButtonElement>(null);
  const body = () => ({
    id: form.id.trim(), name: form.name, type: form.type, district: form.district, designated: form.designated,
    ...(form.level ? { level: form.level } : {}),
    ...(form.type === 'clinic' && form.leadHospitalId ? { leadHospitalId: form.leadHospitalId } : {}),
    ...(form.type !== 'pharmacy' && depts.length ? { departments: depts.map((d) => ({ code: d.code, name: d.name, dailyCapacity: Number(d.dailyCapacity) })) } : {}),
  });
  const register = useMutation({
    mutationFn: () => call('registerInstitution', { body: body() as never }),
    onSuccess: (inst) => { setCreated(inst.name); setErrors({}); setDepts([]); setForm({ ...form, id: '', name: '' }); void qc.invalidateQueries({ queryKey: ['institutions'] }); },
    onError: (e: ApiError) => {
      const fields = problemToFields(e);
      // A code already registered is the 机构编码 field's fault: say so there too (Field then takes
      // the keyboard to it, as to any first invalid field).
      if (e instanceof ApiError && e.slug === 'conflict') fields.id = problemText(e);
      setErrors(fields);
    },
  });
  const removeDept = (i: number) => {
    setDepts(depts.filter((_, j) => j !== i));
    setErrors(withoutDept(errors, i));
    // The button pressed is gone; without this, focus would fall back to the page.
    addDept.current?.focus();
  };
  const submit = (e: Event) => {
    e.preventDefault();
    setCreated(undefined);
    const v = validate(institutionInput, body());
    if (!v.ok) return setErrors(v.errors);
    register.mutate();
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
      {list.isPending ? <Loading /> : (
        <Scroll label="已登记机构"><table>
          <caption class="sr-only">已登记机构</caption>
          <thead><tr><th scope="col">名称</th><th scope="col">编码</th><th scope="col">类型</th><th scope="col">级别</th><th scope="col">区县</th><th scope="col">定点</th></tr></thead>
          <tbody>{(list.data ?? []).map((i) => (
            <tr key={i.id}><td>{i.name}</td><td class="mono">{i.id}</td><td>{institutionTypeLabel[i.type]}</td><td>{i.level ? levelLabel[i.level] : '—'}</td><td>{i.district}</td><td>{i.designated ? <Badge tone="ok">定点</Badge> : <Badge>非定点</Badge>}</td></tr>
          ))}</tbody>
        </table></Scroll>
      )}
      <form onSubmit={submit} novalidate class="panel">
        <h2>登记机构</h2>
        {created && <Alert kind="ok">已登记：{created}</Alert>}
        <FormError errors={errors} />
        <div class="row">
          <Field label="机构编码" error={errors.id}>{(id, d) => <input id={id} class="mono" value={form.id} aria-describedby={d} onInput={(e) => setForm({ ...form, id: e.currentTarget.value })} />}</Field>
          <Field label="名称" error={errors.name}>{(id, d) => <input id={id} value={form.name} aria-describedby={d} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />}</Field>
          <Field label="类型">{(id) => <select id={id} value={form.type} onChange={(e) => setForm({ ...form, type: e.currentTarget.value as typeof form.type })}>{institutionTypes.map((t) => <option key={t} value={t}>{institutionTypeLabel[t]}</option>)}</select>}</Field>
          <Field label="级别">{(id) => <select id={id} value={form.level} onChange={(e) => setForm({ ...form, level: e.currentTarget.value })}><option value="">未定级</option>{institutionLevels.map((l) => <option key={l} value={l}>{levelLabel[l]}</option>)}</select>}</Field>
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
            <button type="button" ref={addDept} onClick={() => setDepts([...depts, { key: nextDept.current++, code: '', name: '', dailyCapacity: '10' }])}>添加科室</button>
          </fieldset>
        )}
        <button type="submit" class="primary" aria-disabled={register.isPending}>登记</button>
      </form>
    </section>
  );
}

const BATCH = 500;

function Enrol() {
  const [parsed, setParsed] = useState<Parsed>();
  const [progress, setProgress] = useState<{ done: number; total: number }>();
  const [result, setResult] = useState<{ enrolled: number; updated: number; errors: RowError[] }>();
  const [fatal, setFatal] = useState<string>();
  const pick = async (file: File) => {
    setResult(undefined);
    setProgress(undefined);
    const p = readPeople(await file.text());
    setFatal(typeof p === 'string' ? p : undefined);
    setParsed(typeof p === 'string' ? undefined : p);
  };
  const send = async ({ people, errors: unread }: Parsed) => {
    setParsed(undefined);
    // 提交登记 goes with the parsed file: the keyboard goes to the progress, and the result is said there.
    focusWhenShown(() => document.getElementById('enrol-progress'));
    const errors = [...unread];
    let enrolled = 0;
    let updated = 0;
    setProgress({ done: 0, total: people.length });
    for (let start = 0; start < people.length; start += BATCH) {
      const batch = people.slice(start, start + BATCH);
      try {
        const r = await call('enrol', { body: { people: batch.map((b) => b.person) } });
        enrolled += r.enrolled;
        updated += r.updated;
        for (const rej of r.rejected) {
          for (const e of rej.errors) {
            const field = e.path.split('.').pop() ?? '';
            errors.push({ row: batch[rej.index]!.row, field: columnLabel[field] ?? field, message: translate(field, e) });
          }
        }
      } catch (e) {
        errors.push({ row: batch[0]!.row, field: '', message: `第 ${batch[0]!.row}–${batch.at(-1)!.row} 行未提交：${problemText(e)}` });
      }
      setProgress({ done: Math.min(start + BATCH, people.length), total: people.length });
    }
    setResult({ enrolled, updated, errors: errors.sort((a, b) => a.row - b.row) });
    announce(`登记完成：新登记 ${enrolled} 人，更新 ${updated} 人，未通过 ${errors.length} 项`);
  };
  return (
    <section>
      <Title>参保登记</Title>
      <p class="muted">上传 CSV 文件（UTF-8），首行为表头：身份证号,姓名,手机号,区县,个人账户余额（元）（本年统筹已用（元）可选）。核对后提交，每 500 人一批。</p>
      <Field label="CSV 文件">{(id) => <input id={id} type="file" accept=".csv,text/csv" onChange={(e) => { const f = e.currentTarget.files?.[0]; if (f) void pick(f); }} />}</Field>
      {fatal && <Alert kind="error">{fatal}</Alert>}
      {parsed && <>
        <Alert kind={parsed.errors.length ? 'info' : 'ok'}>共 {parsed.people.length + rowsIn(parsed.errors)} 行：可提交 {parsed.people.length} 人{parsed.errors.length ? `，${rowsIn(parsed.errors)} 行有误，不提交` : ''}</Alert>
        <RowErrors errors={parsed.errors} caption="有误的行（不提交）" />
        <button type="button" class="primary" disabled={!parsed.people.length} onClick={() => void send(parsed)}>提交登记（{parsed.people.length} 人）</button>
      </>}
      {progress && (
        <p id="enrol-progress" tabIndex={-1}><label>进度 <progress max={progress.total} value={progress.done}>{progress.done}/{progress.total}</progress></label> {progress.done} / {progress.total}</p>
      )}
      {result && <>
        <Alert kind={result.errors.length ? 'info' : 'ok'}>新登记 {result.enrolled} 人，更新 {result.updated} 人，未通过 {result.errors.length} 项</Alert>
        <RowErrors errors={result.errors} caption="未通过的行" />
      </>}
    </section>
  );
}

/** Rows with at least one error (a row may have several). */
const rowsIn = (errors: RowError[]) => new Set(errors.map((e) => e.row)).size;

function RowErrors({ errors, caption }: { errors: RowError[]; caption: string }) {
  if (!errors.length) return null;
  return (
    <table>
      <caption>{caption}</caption>
      <thead><tr><th scope="col" class="num">行号</th><th scope="col">字段</th><th scope="col">原因</th></tr></thead>
      <tbody>{errors.map((e, i) => <tr key={i}><td class="num">{e.row}</td><td>{e.field}</td><td>{e.message}</td></tr>)}</tbody>
    </table>
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
    save.mutate();
  };
  // A new drug typed under a code already in the catalog would replace that drug: say so before saving.
  const existing = editing ? undefined : drugs.data?.find((d) => d.drugCode === form.drugCode);
  const describedBy = (d: string | undefined) => [d, editing ? noticeId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <section>
      <Title>药品目录</Title>
      {drugs.isPending ? <Loading /> : (drugs.data?.length ?? 0) === 0 ? <Empty>目录为空</Empty> : (
        <Scroll label="药品目录"><table>
          <caption class="sr-only">药品目录</caption>
          <thead><tr><th scope="col">编码</th><th scope="col">名称</th><th scope="col">医保类别</th><th scope="col">单位</th><th scope="col">长期处方</th><th scope="col"><span class="sr-only">操作</span></th></tr></thead>
          <tbody>{drugs.data!.map((d) => (
            <tr key={d.drugCode}><td class="mono">{d.drugCode}</td><td>{d.name}</td><td>{categoryLabel[d.category]}</td><td>{d.unit}</td>
              <td>{d.longTermAllowed ? '可' : <Badge tone="warn">不可</Badge>}</td>
              <td class="actions"><button type="button" class="link" data-edit={d.drugCode} onClick={() => edit(d)}>编辑 {d.name}</button></td></tr>
          ))}</tbody>
        </table></Scroll>
      )}
      <form ref={formRef} onSubmit={submit} novalidate class="panel">
        <h2>{editing ? '修改药品' : '新增或修改药品'}</h2>
        {editing && <p id={noticeId} class="alert info">正在修改 {editing.name}（<span class="mono">{editing.drugCode}</span>）。药品编码不可更改；要新增药品，请先取消修改。</p>}
        {saved && <Alert kind="ok">已保存：{saved}</Alert>}
        <FormError errors={errors} />
        <div class="row">
          <Field label="药品编码" error={errors.drugCode} hint={existing ? `目录中已有此编码：${existing.name}。保存将修改该药品` : undefined}>
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

/** The day's alerts: trace codes sold twice (an attempt refused at a counter) and prescribers holding a district's stock. */
function Alerts() {
  const [day, setDay] = useState(calendarDay());
  const list = useQuery({
    queryKey: ['alerts', day],
    queryFn: async () => (await allPages((nextToken) => call('listAlerts', { query: { date: day, limit: 200, nextToken } }))).items,
    refetchInterval: poll(30_000),
  });
  return (
    <section>
      <Title>预警</Title>
      <Field label="日期" narrow>{(id) => <input id={id} type="date" value={day} max={calendarDay()} onInput={(e) => e.currentTarget.value && setDay(e.currentTarget.value)} />}</Field>
      {list.isPending ? <Loading /> : list.isError ? <Alert kind="error">{problemText(list.error)}</Alert> : list.data.length === 0 ? <Empty>{date(day)} 没有预警</Empty> : (
        <Scroll label={`${date(day)} 的预警`}><table>
          <caption class="sr-only">{date(day)} 的预警</caption>
          <thead><tr><th scope="col">时间</th><th scope="col">类型</th><th scope="col">机构</th><th scope="col">详情</th></tr></thead>
          <tbody>{list.data.map((a) => <AlertRow key={a.alertId} a={a} />)}</tbody>
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
        ? <>已售追溯码再次结算，被拒绝：<span class="mono">{list(d.codes)}</span></>
        : <>{String(d.district ?? '')} · {drug(String(d.drugCode ?? ''))}：其处方预留 {String(d.heldUnits ?? '')}，区内在库 {String(d.districtOnHandUnits ?? '')}</>}</td>
    </tr>
  );
}
