// The pharmacy desk: the counter first (the most frequent action), then the prescriptions routed
// here (review, settle and dispense, in part when only part is in stock, dispense against a
// settlement already made for it, and tell the patient to collect), stock, and the day's
// settlements (each one's receipt reopened to reprint it, dispense against it or reverse it).
import { useQueries, useQuery, useQueryClient } from '@tanstack/preact-query';
import { useEffect, useRef, useState } from 'preact/hooks';
import { MAX_STOCK_QUANTITY, rejectRequest, type Prescription, type PrescriptionStatus } from '#schemas/prescriptions';
import type { Settlement } from '#schemas/vouchers';
import { call, type ApiError } from '../../lib/api.ts';
import { currentSession } from '../../lib/auth.ts';
import { calendarDay, date, dateTime, shortId, sortableDateTime, yuan } from '../../lib/format.ts';
import { problemToFields, validate, type FieldErrors } from '../../lib/forms.ts';
import { prescriptionStatusLabel, problemText, settlementStatusLabel } from '../../lib/labels.ts';
import { useMutation } from '../../lib/mutation.ts';
import { poll } from '../../lib/polling.ts';
import { useDrugName, useDrugs, useInstitutionName } from '../../shared/names.ts';
import { Alert, announce, Badge, closesOnEscape, CountTabs, Empty, Field, focusTitle, focusWhenShown, FormError, kept, Loading, Money, RefreshFailed, Scroll, tabCount, Title, useOpenedForm } from '../../shared/ui.tsx';
import { go, useDayParam, withDay } from '../../app/router.ts';
import { closedText, Counter, dispensedText, fillable, Receipt, reversalQuestion, reversedText } from './Counter.tsx';
import { dispenseItems, owingOf, undispensedSettlements } from './packs.ts';
import { daySettlements, useRecentSettlements } from './settlements.ts';

export const pharmacyNav = [
  { section: '', label: '医保结算' },
  // A prescription's counter is opened from its card.
  { section: 'prescriptions', label: '处方', within: ['counter'] },
  { section: 'settlements', label: '当日结算' },
  { section: 'stock', label: '库存' },
] as const;

export function PharmacyDesk({ path }: { path: string[] }) {
  switch (path[0]) {
    case 'prescriptions': return <Queue />;
    case 'settlements': return path[1] ? <SettlementReceipt key={path[1]} id={path[1]} /> : <Settlements />;
    case 'stock': return <Stock />;
    case 'counter': return <Counter key={path[1]} prescriptionId={path[1]} />;
    default: return <Counter />;
  }
}

const queueStatuses = ['routed', 'accepted', 'partially-dispensed', 'dispensed'] as const satisfies readonly PrescriptionStatus[];

type QueueStatus = (typeof queueStatuses)[number];
/** What the last move on a card did, said above the list: the card itself has moved to another tab. */
interface Note { text: string; tab?: QueueStatus; kind?: 'ok' | 'error'; /** A settlement to reverse, its receipt linked. */ reverse?: string }

function Queue() {
  const [status, setStatus] = useState<QueueStatus>('routed');
  const [note, setNote] = useState<Note>();
  const counts = useQueries({
    // The same query as the list of that status: a tab's count and its list never disagree.
    queries: queueStatuses.map((s) => ({ queryKey: ['prescriptions', s], queryFn: () => call('listPrescriptions', { query: { status: s, limit: 200 } }), refetchInterval: poll(30_000) })),
  });
  const list = useQuery({ queryKey: ['prescriptions', status], queryFn: () => call('listPrescriptions', { query: { status, limit: 200 } }), refetchInterval: poll(10_000) });
  // Yesterday's and today's settlements (the 当日结算 queries): one made for a prescription but not
  // handed over against (the pharmacist moved to the next patient first, maybe just before midnight)
  // is offered on its card.
  const dispensable = (status === 'accepted' || status === 'partially-dispensed') && !!list.data?.items.length;
  const recent = useRecentSettlements(dispensable);
  const select = (s: QueueStatus) => {
    setNote(undefined);
    setStatus(s);
  };
  // The card acted on leaves this tab (or is about to): the keyboard goes to what became of it, and
  // from there to 去结算发药 when that is next.
  const noteBox = useRef<HTMLParagraphElement>(null);
  useEffect(() => noteBox.current?.focus(), [note]);
  // Kept through a refresh that fails for a passing reason: a reason half typed on a card stays.
  const data = kept(list);
  return (
    <section>
      <Title>流转到本店的处方</Title>
      <CountTabs label="处方状态" current={status} onSelect={select}
        items={queueStatuses.map((s, i) => ({ key: s, label: prescriptionStatusLabel[s], count: tabCount(counts[i]) }))} />
      {note && (
        <p ref={noteBox} class={`alert ${note.kind ?? 'ok'}`} role={note.kind === 'error' ? 'alert' : 'status'} tabIndex={-1}>
          {note.text}
          {note.tab && <> <button type="button" class="link" onClick={() => select(note.tab!)}>去结算发药</button></>}
          {note.reverse && <> <a href={`#/pharmacy/settlements/${encodeURIComponent(note.reverse)}`}>去冲正</a></>}
        </p>
      )}
      <RefreshFailed q={list} />
      {list.isPending ? <Loading /> : !data ? <Alert kind="error">{problemText(list.error)}</Alert> : data.items.length === 0 ? <Empty>没有{prescriptionStatusLabel[status]}的处方</Empty> : (
        <ul class="cards">{data.items.map((p) => (
          <PrescriptionCard key={p.prescriptionId} p={p} onMoved={setNote}
            paid={dispensable && recent ? undispensedSettlements(p, recent) : []} />
        ))}</ul>
      )}
    </section>
  );
}

/**
 * One prescription: review it (审核通过 / 拒绝), settle and dispense, or dispense against a settlement
 * already made for it (`paid`: today's, not handed over against), and tell the patient to collect.
 */
function PrescriptionCard({ p, paid, onMoved }: { p: Prescription; paid: Settlement[]; onMoved: (n: Note) => void }) {
  const prescriber = useInstitutionName(p.prescriberId);
  const name = useDrugName();
  const qc = useQueryClient();
  const [rejecting, setRejecting] = useState(false);
  const opened = useOpenedForm(rejecting);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const done = () => void qc.invalidateQueries({ queryKey: ['prescriptions'] });
  /**
   * A move refused: the prescription read again. One no longer to be filled (the prescriber
   * cancelled it meanwhile) leaves the list with the card, so what happened is said above the list.
   */
  const refused = async (e: ApiError, closed: (rx: Prescription) => Note) => {
    // The card's one field is the rejection's reason: anything else (a dispense's settlementId) is said above its buttons.
    setErrors(problemToFields(e, (path) => path === 'reason' && rejecting));
    const rx = await call('getPrescription', { params: { id: p.prescriptionId } }).catch(() => undefined);
    if (rx && !fillable(rx)) onMoved({ kind: 'error', ...closed(rx) });
    done();
  };
  const accept = useMutation({
    mutationFn: () => call('acceptPrescription', { params: { id: p.prescriptionId } }),
    // The card leaves 已流转; the next step is on the 已审核 tab, so say so.
    onSuccess: () => { onMoved({ text: `处方 ${shortId(p.prescriptionId)} 已审核通过，可在「已审核」中结算发药。`, tab: 'accepted' }); done(); },
    onError: (e: ApiError) => void refused(e, (rx) => ({ text: `${closedText(rx)}，无需审核。` })),
  });
  // Against a settlement already made for it: no second charge.
  const dispense = useMutation({
    mutationFn: (s: Settlement) => call('dispensePrescription', { params: { id: p.prescriptionId }, body: { settlementId: s.settlementId, ...dispenseItems(p, s) } }),
    onSuccess: (rx) => { qc.setQueryData(['prescription', rx.prescriptionId], rx); onMoved({ text: dispensedText(rx, name) }); done(); },
    onError: (e: ApiError, s) => void refused(e, (rx) => ({
      text: `${closedText(rx)}，不能发药。结算 ${shortId(s.settlementId)} 请于结算当日冲正，并将款项退还患者（现金 ${yuan(s.cashFen)} 当面退还）。`,
      reverse: s.settlementId,
    })),
  });
  const reject = useMutation({
    mutationFn: () => call('rejectPrescription', { params: { id: p.prescriptionId }, body: { reason } }),
    // Said above the list, where the keyboard goes (the note is read there): the card leaves it.
    onSuccess: () => { onMoved({ text: `处方 ${shortId(p.prescriptionId)} 已拒绝，本店不再为其配药。` }); done(); },
    onError: (e: ApiError) => setErrors(problemToFields(e)),
  });
  const rejectSubmit = (e: Event) => {
    e.preventDefault();
    // A blank reason is said in its field, without a request.
    const v = validate(rejectRequest, { reason });
    setErrors(v.ok ? {} : v.errors);
    if (v.ok) reject.mutate();
  };
  const ready = useMutation({
    mutationFn: () => call('readyPrescription', { params: { id: p.prescriptionId } }),
    // The keyboard stays on the button: said, since the card changes only a line.
    onSuccess: () => { setErrors({}); announce(`已通知患者取药：处方 ${shortId(p.prescriptionId)}`); done(); },
    onError: (e: ApiError) => { setErrors(problemToFields(e)); done(); },
  });
  const owing = owingOf(p);
  const handedOver = (drugCode: string) => (p.dispensed ?? []).filter((d) => d.drugCode === drugCode).reduce((n, d) => n + d.quantity, 0);
  const part = (p.dispensed?.length ?? 0) > 0;
  const open = p.status === 'accepted' || p.status === 'partially-dispensed';
  return (
    <li class="card" aria-label={`处方 ${shortId(p.prescriptionId)}`}>
      <div class="card-head">
        <strong>处方 {shortId(p.prescriptionId)}</strong>
        <Badge tone={`status-${p.status}`}>{prescriptionStatusLabel[p.status]}</Badge>
        {p.longTerm && <Badge tone="warn">长期处方 {p.supplyDays} 天</Badge>}
        <span class="muted">{prescriber} · 开具于 {dateTime(p.issuedAt)} · 有效至 {dateTime(p.expiresAt)}</span>
      </div>
      <p>患者 <strong>{p.patient ? `${p.patient.name}（${p.patient.nationalIdMasked}）` : shortId(p.personId)}</strong> · 诊断 {p.diagnoses.join('、')}</p>
      <table>
        <thead><tr><th scope="col">药品</th><th scope="col" class="num">数量</th>{part && <><th scope="col" class="num">已发</th><th scope="col" class="num">尚欠</th></>}<th scope="col">用法用量</th></tr></thead>
        <tbody>{p.items.map((i) => (
          <tr key={i.drugCode}>
            <td>{name(i.drugCode)}</td><td class="num">{i.quantity}</td>
            {part && <><td class="num">{handedOver(i.drugCode)}</td><td class="num">{owing.find((o) => o.drugCode === i.drugCode)?.quantity ?? 0}</td></>}
            <td>{i.dosage}</td>
          </tr>
        ))}</tbody>
      </table>
      {p.status === 'partially-dispensed' && <p>尚欠 <strong>{owing.map((o) => `${name(o.drugCode)} ×${o.quantity}`).join('、')}</strong>，已为患者保留。</p>}
      {p.readyAt && <p class="muted">已于 {dateTime(p.readyAt)} 通知患者取药</p>}
      {open && paid.map((s) => (
        <p key={s.settlementId}>已结算未发药：结算 <span class="mono">{shortId(s.settlementId)}</span>（{dateTime(s.settledAt)}，{yuan(s.totalFen)}），按此结算发药即可，无需再次收费。</p>
      ))}
      <FormError errors={errors} />
      <div class="buttons">
        {p.status === 'routed' && <>
          <button type="button" class="primary" aria-disabled={accept.isPending} onClick={() => accept.mutate()}>审核通过</button>
          <button type="button" class="danger" aria-expanded={rejecting} onClick={() => { opened.toggled(); setRejecting(!rejecting); }}>拒绝</button>
        </>}
        {open && <>
          {paid.map((s) => (
            <button type="button" key={s.settlementId} class="primary" aria-disabled={dispense.isPending || dispense.isSuccess} onClick={() => !dispense.isSuccess && dispense.mutate(s)}>
              按此结算发药{paid.length > 1 ? `（${shortId(s.settlementId)}）` : ''}
            </button>
          ))}
          {/* Paid already: no second charge offered (its counter would refuse it too). */}
          {!paid.length && <button type="button" class="primary" onClick={() => go('pharmacy', 'counter', p.prescriptionId)}>结算并发药</button>}
          <button type="button" aria-disabled={ready.isPending} onClick={() => ready.mutate()}>{p.readyAt ? '再次通知取药' : '通知取药'}</button>
        </>}
      </div>
      {rejecting && (
        <form class="subform" ref={opened.form} onSubmit={rejectSubmit} onKeyDown={closesOnEscape(() => setRejecting(false), reject.isPending)} novalidate>
          <Field label="拒绝原因" error={errors.reason}>{(id, d) => <input id={id} value={reason} aria-describedby={d} onInput={(e) => setReason(e.currentTarget.value)} />}</Field>
          <button type="submit" class="danger" aria-disabled={reject.isPending}>确认拒绝</button>
        </form>
      )}
    </li>
  );
}

/** The address of 当日结算 for `day`: another day than today is in it, so a reload and Back keep it. */
const settlementsHref = (day: string) => withDay('#/pharmacy/settlements', day);

function Settlements() {
  // Today follows the province's midnight (a 24-hour pharmacy's screen left open), unless a day
  // was picked; today's date in the address (a bookmark) is today.
  const { day, today: todayNow, pick, badDay } = useDayParam();
  const list = useQuery({ queryKey: ['settlements', day], queryFn: () => daySettlements(day), refetchInterval: poll(30_000) });
  // Kept through a refresh that fails for a passing reason (shared/ui.tsx kept()).
  const data = kept(list);
  const qc = useQueryClient();
  const reverse = useMutation({
    mutationFn: (id: string) => call('reverseSettlement', { params: { settlementId: id } }),
    // Its 冲正 goes once the list is read again: the keyboard moves to the row's number first, and the result is said.
    onSuccess: (r, id) => {
      announce(`已冲正结算 ${shortId(id)}：现金 ${yuan(r.cashFen)} 请退还患者`);
      document.querySelector<HTMLElement>(`a[href="#/pharmacy/settlements/${encodeURIComponent(id)}"]`)?.focus();
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: ['settlements'] }),
  });
  const download = () => {
    if (!data) return;
    // 小票号 is the short number the screen and the receipt show, to match rows by eye.
    const rows = [['结算号', '小票号', '时间', '状态', '总额(元)', '统筹(元)', '个人账户(元)', '家庭共济(元)', '现金(元)', '处方'],
      ...data.items.map((s) => [s.settlementId, shortId(s.settlementId), sortableDateTime(s.settledAt), settlementStatusLabel[s.status], ...[s.totalFen, s.pooledFundFen, s.personalAccountFen, s.mutualAidFen, s.cashFen].map((f) => yuan(f).replace(/[¥,]/g, '')), s.prescriptionId ?? ''])];
    const csv = '\ufeff' + rows.map((r) => r.map((c) => `"${String(c).replace(/"/g, '""')}"`).join(',')).join('\r\n');
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    // ASCII: some browsers drop a Chinese file name, and the file is then saved without .csv.
    a.download = `settlements-${currentSession()?.institutionId ?? ''}-${day}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  const today = day === todayNow;
  const reversedCount = data?.items.filter((s) => s.status === 'reversed').length ?? 0;
  return (
    <section>
      <Title actions={<button type="button" onClick={download} disabled={!data?.items.length}>下载 CSV</button>}>{date(day)} 结算</Title>
      <div class="row">
        <Field label="日期" narrow>{(id) => <input id={id} type="date" value={day} max={todayNow} onInput={(e) => e.currentTarget.value && pick(e.currentTarget.value)} />}</Field>
      </div>
      {badDay && <Alert kind="info">地址中的日期“{badDay.asked}”{badDay.why}，已显示今日结算。</Alert>}
      <RefreshFailed q={list} />
      {list.isPending ? <Loading /> : !data ? <Alert kind="error">{problemText(list.error)}</Alert> : <>
        <h2 class="small muted" id="day-totals">合计（不含已冲正的结算）</h2>
        <dl class="totals" aria-labelledby="day-totals">
          <div><dt>笔数</dt><dd>{data.totals.count}{reversedCount > 0 && <small class="muted"> 另有 {reversedCount} 笔已冲正</small>}</dd></div>
          <div><dt>费用总额</dt><dd><Money fen={data.totals.totalFen} /></dd></div>
          <div><dt>统筹支付</dt><dd><Money fen={data.totals.pooledFundFen} /></dd></div>
          <div><dt>个人账户</dt><dd><Money fen={data.totals.personalAccountFen} /></dd></div>
          <div><dt>家庭共济</dt><dd><Money fen={data.totals.mutualAidFen} /></dd></div>
          <div><dt>现金</dt><dd><Money fen={data.totals.cashFen} /></dd></div>
        </dl>
        {reverse.isError && <Alert kind="error">{problemText(reverse.error)}</Alert>}
        {/* Seen by the pharmacist; a screen reader hears it from announce() above. */}
        {reverse.isSuccess && (
          <p class="alert ok">已冲正结算 {shortId(reverse.data.settlementId)}：{reversedText(reverse.data)}</p>
        )}
        {data.items.length === 0 ? <Empty>当日没有结算</Empty> : (
          <Scroll label="结算明细"><table>
            <caption class="sr-only">结算明细</caption>
            <thead><tr><th scope="col">结算号</th><th scope="col">时间</th><th scope="col">参保人</th><th scope="col">状态</th><th scope="col" class="num">总额</th><th scope="col" class="num">统筹</th><th scope="col" class="num">个人账户</th><th scope="col" class="num">家庭共济</th><th scope="col" class="num">现金</th><th scope="col">处方</th><th scope="col"><span class="sr-only">操作</span></th></tr></thead>
            <tbody>{data.items.map((s: Settlement) => (
              <tr key={s.settlementId}>
                <td class="mono"><a href={`#/pharmacy/settlements/${encodeURIComponent(s.settlementId)}`} aria-label={`结算 ${shortId(s.settlementId)} 小票`}>{shortId(s.settlementId)}</a></td><td>{dateTime(s.settledAt)}</td>
                <td>{s.patient ? `${s.patient.name}（尾号 ${s.patient.nationalIdMasked.slice(-4)}）` : ''}</td>
                <td><Badge tone={`status-${s.status}`}>{settlementStatusLabel[s.status]}</Badge>{s.handedOverAt && <small class="muted"> 已发药</small>}</td>
                <td class="num">{yuan(s.totalFen)}</td><td class="num">{yuan(s.pooledFundFen)}</td><td class="num">{yuan(s.personalAccountFen)}</td><td class="num">{yuan(s.mutualAidFen)}</td><td class="num">{yuan(s.cashFen)}</td>
                <td class="mono">{s.prescriptionId ? shortId(s.prescriptionId) : ''}</td>
                {/* Not once drugs were handed over against it (the API refuses). One from before handedOverAt was kept may
                    still offer it: the question says so, and the API's refusal is shown. */}
                <td class="actions">{today && s.status === 'settled' && !s.handedOverAt && (
                  <button type="button" class="link danger" aria-disabled={reverse.isPending} aria-label={`冲正结算 ${shortId(s.settlementId)}`}
                    onClick={() => !reverse.isPending && confirm(reversalQuestion(s, s.prescriptionId ? `本结算关联处方 ${shortId(s.prescriptionId)}，药品已按此结算发出的不能冲正。` : '')) && reverse.mutate(s.settlementId)}>冲正</button>
                )}</td>
              </tr>
            ))}</tbody>
          </table></Scroll>
        )}
      </>}
    </section>
  );
}

/** A settlement's receipt reopened from 当日结算: reprint it, dispense against it, or reverse it. */
function SettlementReceipt({ id }: { id: string }) {
  // Read afresh at each opening (no cache kept): the receipt holds its own copy once shown.
  const s = useQuery({ queryKey: ['settlement', id], queryFn: () => call('getSettlement', { params: { settlementId: id } }), gcTime: 0 });
  // The router puts the keyboard on the title as the screen opens, before the receipt has loaded:
  // once it has, on the receipt's title (the first went with the loading screen).
  useEffect(() => {
    if (s.data && (!document.activeElement || document.activeElement === document.body)) focusTitle();
  }, [!!s.data]);
  if (s.isPending) return <><Title>结算小票</Title><Loading what="结算小票" /></>;
  if (s.isError) return <><Title actions={<a href="#/pharmacy/settlements">返回当日结算</a>}>结算小票</Title><Alert kind="error">{problemText(s.error)}</Alert></>;
  // Back to the list of the day it was made, whichever day the list showed.
  return <Receipt settlement={s.data} reopened onNext={() => { location.hash = settlementsHref(calendarDay(new Date(s.data.settledAt))); }} />;
}

/** What is wrong with a quantity on hand as typed, if anything: a cleared box is not 0. */
function onHandProblem(text: string, reserved: number): string | undefined {
  const t = text.trim();
  if (!t) return '请填写在库数量（没有库存填 0）';
  if (!/^\d+$/.test(t)) return '须为不小于 0 的整数';
  const n = Number(t);
  if (n > MAX_STOCK_QUANTITY) return `不能大于 ${MAX_STOCK_QUANTITY}`;
  if (n < reserved) return `不能少于已预留的 ${reserved}`;
  return undefined;
}

function Stock() {
  const me = currentSession()!.institutionId!;
  const drugs = useDrugs();
  const name = useDrugName();
  const qc = useQueryClient();
  const stock = useQuery({ queryKey: ['stock', me], queryFn: () => call('getStock', { params: { id: me }, query: { limit: 200 } }) });
  const [edits, setEdits] = useState<Record<string, string>>({});
  // The count each edited row showed when its edit began: sent as expectedOnHand, so that a count
  // another desk (or the pharmacy's system) changed meanwhile is refused (412), not overwritten.
  const [from, setFrom] = useState<Record<string, number>>({});
  const edit = (drugCode: string, value: string) => {
    if (!(drugCode in from)) setFrom({ ...from, [drugCode]: rows.find((r) => r.drugCode === drugCode)?.onHand ?? 0 });
    setEdits({ ...edits, [drugCode]: value });
  };
  const [errors, setErrors] = useState<FieldErrors>({});
  /** Problems of one drug's line, by drug code: said on its row, its box marked. */
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: (items: Array<{ drugCode: string; quantity: number; expectedOnHand: number }>) => call('putStock', { params: { id: me }, body: { items } }),
    onSuccess: (_, sent) => {
      // Only what was sent is done: a box changed while saving keeps its new count, to save next.
      // (`edits` is the latest render's: lib/mutation.ts calls the latest callbacks.)
      const done = new Set(sent.filter((i) => Number(edits[i.drugCode]?.trim()) === i.quantity).map((i) => i.drugCode));
      setEdits(Object.fromEntries(Object.entries(edits).filter(([c]) => !done.has(c))));
      setFrom(Object.fromEntries(Object.entries(from).filter(([c]) => !done.has(c))));
      setErrors({});
      setRowErrors({});
      setSaved(true);
      void qc.invalidateQueries({ queryKey: ['stock'] });
    },
    onError: (e: ApiError, items) => {
      setSaved(false);
      if (e.status === 412) {
        // Changed meanwhile: those rows show the count now, and say what was typed, to count again.
        const changed = (e.problem.errors ?? []).flatMap((fe) => {
          const m = /^items\.(\d+)\.expectedOnHand$/.exec(fe.path.replace(/^body\./, ''));
          const item = m ? items[Number(m[1])] : undefined;
          const now = /is now (\d+) on hand/.exec(fe.message)?.[1];
          return item ? [[item.drugCode, `其他人已将在库数量改为 ${now ?? '新的数值'}，您填写的 ${item.quantity} 未保存：请核对后重新填写`] as const] : [];
        });
        const stale = new Set(changed.map(([c]) => c));
        setEdits(Object.fromEntries(Object.entries(edits).filter(([c]) => !stale.has(c))));
        setFrom(Object.fromEntries(Object.entries(from).filter(([c]) => !stale.has(c))));
        setRowErrors(Object.fromEntries(changed));
        setErrors({ '': '库存已被他人修改，未保存任何数量：请核对标红的行后重新保存' });
        void qc.invalidateQueries({ queryKey: ['stock'] });
        // 保存库存 may have nothing left to save (disabled, dropping the keyboard): to the first row changed.
        focusWhenShown(() => document.querySelector<HTMLElement>('input.qty[aria-invalid="true"]'));
        return;
      }
      // The API's `items.<n>.…` (a count below what is reserved meanwhile too) goes to the row of the
      // n-th drug sent; anything else (a rule on the whole list) is said above the table.
      const rowOf = (path: string) => {
        const n = /^items\.(\d+)\./.exec(path);
        return n ? items[Number(n[1])] : undefined;
      };
      const rowsSaid: Record<string, string> = {};
      const rest: FieldErrors = {};
      for (const [path, message] of Object.entries(problemToFields(e, (path) => !!rowOf(path)))) {
        const row = rowOf(path);
        if (row) rowsSaid[row.drugCode] ??= message;
        else rest[path] = message;
      }
      if (Object.keys(rowsSaid).length && !rest['']) rest[''] = '填写有误，请检查标红的行';
      setRowErrors(rowsSaid);
      setErrors(rest);
      // Below what was reserved meanwhile: the 已预留 column (and the rows' own check) read it anew.
      if (e.status === 409) void qc.invalidateQueries({ queryKey: ['stock'] });
    },
  });
  const rows = stock.data?.items ?? [];
  const submit = (e: Event) => {
    e.preventDefault();
    setSaved(false);
    const said: Record<string, string> = {};
    for (const [drugCode, q] of Object.entries(edits)) {
      const problem = onHandProblem(q, rows.find((r) => r.drugCode === drugCode)?.reserved ?? 0);
      if (problem) said[drugCode] = problem;
    }
    setRowErrors(said);
    if (Object.keys(said).length) {
      setErrors({ '': '填写有误，请检查标红的行' });
      // The keyboard to the first box marked, read with its message.
      (e.currentTarget as HTMLFormElement).querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      return;
    }
    setErrors({});
    save.mutate(Object.entries(edits).map(([drugCode, q]) => ({ drugCode, quantity: Number(q.trim()), expectedOnHand: from[drugCode] ?? 0 })));
  };
  /** A quantity box, marked with its row's problem. */
  const qty = (drugCode: string, value: string) => {
    const error = rowErrors[drugCode];
    return <>
      <input aria-label={`${name(drugCode)} 在库数量`} inputMode="numeric" class="qty" value={value} aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `stock-error-${drugCode}` : undefined} onInput={(e) => edit(drugCode, e.currentTarget.value)} />
      {error && <small id={`stock-error-${drugCode}`} class="error">{error}</small>}
    </>;
  };
  const missing = (drugs.data ?? []).filter((d) => !rows.some((r) => r.drugCode === d.drugCode));
  return (
    <section>
      <Title>库存</Title>
      {/* Focused: 保存库存 is disabled once nothing is left to save, and would drop the keyboard. */}
      {saved && <Alert kind="ok" focus>库存已保存</Alert>}
      <FormError errors={errors} />
      {stock.isPending ? <Loading /> : (
        <form onSubmit={submit} novalidate>
          <table>
            <caption class="sr-only">库存</caption>
            <thead><tr><th scope="col">药品</th><th scope="col" class="num">可用</th><th scope="col" class="num">已预留</th><th scope="col" class="num">已发药</th><th scope="col" class="num">在库数量</th></tr></thead>
            <tbody>{rows.map((r) => (
              <tr key={r.drugCode}>
                <td>{name(r.drugCode)} <span class="muted mono small">{r.drugCode}</span></td>
                <td class="num">{r.available}</td><td class="num">{r.reserved}</td><td class="num">{r.dispensed}</td>
                <td class="num">{qty(r.drugCode, edits[r.drugCode] ?? String(r.onHand))}</td>
              </tr>
            ))}</tbody>
          </table>
          {missing.length > 0 && (
            <Field label="新增药品">{(id) => (
              <select id={id} value="" onChange={(e) => e.currentTarget.value && edit(e.currentTarget.value, '0')}>
                <option value="">选择药品…</option>
                {missing.filter((d) => !(d.drugCode in edits)).map((d) => <option key={d.drugCode} value={d.drugCode}>{d.name}</option>)}
              </select>
            )}</Field>
          )}
          {Object.keys(edits).filter((c) => !rows.some((r) => r.drugCode === c)).map((c) => (
            <p key={c}>{name(c)}：{qty(c, edits[c]!)}</p>
          ))}
          <button type="submit" class="primary" disabled={!Object.keys(edits).length} aria-disabled={save.isPending}>保存库存</button>
        </form>
      )}
    </section>
  );
}

