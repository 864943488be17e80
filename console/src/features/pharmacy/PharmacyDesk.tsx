// The pharmacy desk: the counter first (the most frequent action), then the prescriptions routed
// here (review, settle and dispense, in part when only part is in stock, dispense against a
// settlement already made for it, and tell the patient to collect), stock, and the day's
// settlements (each one's receipt reopened to reprint it, dispense against it or reverse it).
import { useQueries, useQuery, useQueryClient } from '@tanstack/preact-query';
import { useState } from 'preact/hooks';
import type { Prescription, PrescriptionStatus } from '#schemas/prescriptions';
import type { Settlement } from '#schemas/vouchers';
import { allPages, call, type ApiError } from '../../lib/api.ts';
import { currentSession } from '../../lib/auth.ts';
import { calendarDay, date, dateTime, shortId, sortableDateTime, yuan } from '../../lib/format.ts';
import { problemToFields, type FieldErrors } from '../../lib/forms.ts';
import { prescriptionStatusLabel, problemText, settlementStatusLabel } from '../../lib/labels.ts';
import { useMutation } from '../../lib/mutation.ts';
import { poll } from '../../lib/polling.ts';
import { useDrugName, useDrugs, useInstitutionName } from '../../shared/names.ts';
import { Alert, Badge, CountTabs, Empty, Field, FormError, Loading, Money, Title } from '../../shared/ui.tsx';
import { go, hashQuery } from '../../app/router.ts';
import { Counter, dispensedText, Receipt } from './Counter.tsx';
import { dispenseItems, owingOf, undispensedSettlements } from './packs.ts';

export const pharmacyNav = [
  { section: '', label: '医保结算' },
  { section: 'prescriptions', label: '处方' },
  { section: 'settlements', label: '当日结算' },
  { section: 'stock', label: '库存' },
] as const;

export function PharmacyDesk({ path }: { path: string[] }) {
  switch (path[0]) {
    case 'prescriptions': return <Queue />;
    // Keyed by the day in the address, so that the nav's 当日结算 (no day) is today's again.
    case 'settlements': return path[1] ? <SettlementReceipt key={path[1]} id={path[1]} /> : <Settlements key={hashQuery().get('date')} />;
    case 'stock': return <Stock />;
    case 'counter': return <Counter key={path[1]} prescriptionId={path[1]} />;
    default: return <Counter />;
  }
}

const queueStatuses = ['routed', 'accepted', 'partially-dispensed', 'dispensed'] as const satisfies readonly PrescriptionStatus[];

type QueueStatus = (typeof queueStatuses)[number];
/** What the last move on a card did, said above the list: the card itself has moved to another tab. */
interface Note { text: string; tab?: QueueStatus }

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
  const days = [calendarDay(new Date(Date.now() - 86_400_000)), calendarDay()];
  const dispensable = (status === 'accepted' || status === 'partially-dispensed') && !!list.data?.items.length;
  const settled = useQueries({
    queries: days.map((day) => ({ queryKey: ['settlements', day], queryFn: () => daySettlements(day), enabled: dispensable, refetchInterval: poll(30_000) })),
  });
  const recent = settled.every((q) => q.data) ? settled.flatMap((q) => q.data!.items) : undefined;
  const select = (s: QueueStatus) => {
    setNote(undefined);
    setStatus(s);
  };
  return (
    <section>
      <Title>流转到本店的处方</Title>
      <CountTabs label="处方状态" current={status} onSelect={select}
        items={queueStatuses.map((s, i) => ({ key: s, label: prescriptionStatusLabel[s], count: counts[i]?.data ? `${counts[i]!.data!.items.length}${counts[i]!.data!.nextToken ? '+' : ''}` : undefined }))} />
      {note && (
        <p class="alert ok" role="status">
          {note.text}
          {note.tab && <> <button type="button" class="link" onClick={() => select(note.tab!)}>去结算发药</button></>}
        </p>
      )}
      {list.isPending ? <Loading /> : list.isError ? <Alert kind="error">{problemText(list.error)}</Alert> : list.data.items.length === 0 ? <Empty>没有{prescriptionStatusLabel[status]}的处方</Empty> : (
        <ul class="cards">{list.data.items.map((p) => (
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
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const done = () => void qc.invalidateQueries({ queryKey: ['prescriptions'] });
  const accept = useMutation({
    mutationFn: () => call('acceptPrescription', { params: { id: p.prescriptionId } }),
    // The card leaves 已流转; the next step is on the 已审核 tab, so say so.
    onSuccess: () => { onMoved({ text: `处方 ${shortId(p.prescriptionId)} 已审核通过，可在「已审核」中结算发药。`, tab: 'accepted' }); done(); },
    onError: (e: ApiError) => { setErrors(problemToFields(e)); done(); },
  });
  // Against a settlement already made for it: no second charge.
  const dispense = useMutation({
    mutationFn: (s: Settlement) => call('dispensePrescription', { params: { id: p.prescriptionId }, body: { settlementId: s.settlementId, ...dispenseItems(p, s) } }),
    onSuccess: (rx) => { qc.setQueryData(['prescription', rx.prescriptionId], rx); onMoved({ text: dispensedText(rx, name) }); done(); },
    onError: (e: ApiError) => { setErrors(problemToFields(e)); done(); },
  });
  const reject = useMutation({ mutationFn: () => call('rejectPrescription', { params: { id: p.prescriptionId }, body: { reason } }), onSuccess: done, onError: (e: ApiError) => setErrors(problemToFields(e)) });
  const ready = useMutation({ mutationFn: () => call('readyPrescription', { params: { id: p.prescriptionId } }), onSuccess: () => { setErrors({}); done(); }, onError: (e: ApiError) => { setErrors(problemToFields(e)); done(); } });
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
          <button type="button" class="primary" disabled={accept.isPending} onClick={() => accept.mutate()}>审核通过</button>
          <button type="button" class="danger" aria-expanded={rejecting} onClick={() => setRejecting(!rejecting)}>拒绝</button>
        </>}
        {open && <>
          {paid.map((s) => (
            <button type="button" key={s.settlementId} class="primary" disabled={dispense.isPending || dispense.isSuccess} onClick={() => dispense.mutate(s)}>
              按此结算发药{paid.length > 1 ? `（${shortId(s.settlementId)}）` : ''}
            </button>
          ))}
          <button type="button" class={paid.length ? undefined : 'primary'} onClick={() => go('pharmacy', 'counter', p.prescriptionId)}>结算并发药</button>
          <button type="button" disabled={ready.isPending} onClick={() => ready.mutate()}>{p.readyAt ? '再次通知取药' : '通知取药'}</button>
        </>}
      </div>
      {rejecting && (
        <form class="subform" onSubmit={(e) => { e.preventDefault(); reject.mutate(); }}>
          <Field label="拒绝原因" error={errors.reason}>{(id, d) => <input id={id} required value={reason} aria-describedby={d} onInput={(e) => setReason(e.currentTarget.value)} />}</Field>
          <button type="submit" class="danger" disabled={reject.isPending}>确认拒绝</button>
        </form>
      )}
    </li>
  );
}

/** A day's settlements of this pharmacy, every page, with the day's totals. */
const daySettlements = (day: string) => allPages((nextToken) => call('listSettlements', { query: { date: day, limit: 200, nextToken } }));

/** The address of 当日结算 for `day`: another day than today is in it, so a reload and Back keep it. */
const settlementsHref = (day: string) => `#/pharmacy/settlements${day === calendarDay() ? '' : `?date=${day}`}`;

function Settlements() {
  const [day, setDay] = useState(() => hashQuery().get('date')?.match(/^\d{4}-\d{2}-\d{2}$/)?.[0] ?? calendarDay());
  const pick = (d: string) => {
    history.replaceState(history.state, '', settlementsHref(d));
    setDay(d);
  };
  const list = useQuery({ queryKey: ['settlements', day], queryFn: () => daySettlements(day), refetchInterval: poll(30_000) });
  const qc = useQueryClient();
  const reverse = useMutation({
    mutationFn: (id: string) => call('reverseSettlement', { params: { settlementId: id } }),
    onSettled: () => void qc.invalidateQueries({ queryKey: ['settlements'] }),
  });
  const download = () => {
    if (!list.data) return;
    // 小票号 is the short number the screen and the receipt show, to match rows by eye.
    const rows = [['结算号', '小票号', '时间', '状态', '总额(元)', '统筹(元)', '个人账户(元)', '家庭共济(元)', '现金(元)', '处方'],
      ...list.data.items.map((s) => [s.settlementId, shortId(s.settlementId), sortableDateTime(s.settledAt), settlementStatusLabel[s.status], ...[s.totalFen, s.pooledFundFen, s.personalAccountFen, s.mutualAidFen, s.cashFen].map((f) => yuan(f).replace(/[¥,]/g, '')), s.prescriptionId ?? ''])];
    const csv = '\ufeff' + rows.map((r) => r.map((c) => `"${String(c).replace(/"/g, '""')}"`).join(',')).join('\r\n');
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    // ASCII: some browsers drop a Chinese file name, and the file is then saved without .csv.
    a.download = `settlements-${currentSession()?.institutionId ?? ''}-${day}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  const today = day === calendarDay();
  const reversedCount = list.data?.items.filter((s) => s.status === 'reversed').length ?? 0;
  return (
    <section>
      <Title actions={<button type="button" onClick={download} disabled={!list.data?.items.length}>下载 CSV</button>}>{date(day)} 结算</Title>
      <div class="row">
        <Field label="日期" narrow>{(id) => <input id={id} type="date" value={day} max={calendarDay()} onInput={(e) => e.currentTarget.value && pick(e.currentTarget.value)} />}</Field>
      </div>
      {list.isPending ? <Loading /> : list.isError ? <Alert kind="error">{problemText(list.error)}</Alert> : <>
        <h2 class="small muted" id="day-totals">合计（不含已冲正的结算）</h2>
        <dl class="totals" aria-labelledby="day-totals">
          <div><dt>笔数</dt><dd>{list.data.totals.count}{reversedCount > 0 && <small class="muted"> 另有 {reversedCount} 笔已冲正</small>}</dd></div>
          <div><dt>费用总额</dt><dd><Money fen={list.data.totals.totalFen} /></dd></div>
          <div><dt>统筹支付</dt><dd><Money fen={list.data.totals.pooledFundFen} /></dd></div>
          <div><dt>个人账户</dt><dd><Money fen={list.data.totals.personalAccountFen} /></dd></div>
          <div><dt>家庭共济</dt><dd><Money fen={list.data.totals.mutualAidFen} /></dd></div>
          <div><dt>现金</dt><dd><Money fen={list.data.totals.cashFen} /></dd></div>
        </dl>
        {reverse.isError && <Alert kind="error">{problemText(reverse.error)}</Alert>}
        {list.data.items.length === 0 ? <Empty>当日没有结算</Empty> : (
          <table>
            <caption class="sr-only">结算明细</caption>
            <thead><tr><th scope="col">结算号</th><th scope="col">时间</th><th scope="col">状态</th><th scope="col" class="num">总额</th><th scope="col" class="num">统筹</th><th scope="col" class="num">个人账户</th><th scope="col" class="num">家庭共济</th><th scope="col" class="num">现金</th><th scope="col">处方</th><th scope="col"><span class="sr-only">操作</span></th></tr></thead>
            <tbody>{list.data.items.map((s: Settlement) => (
              <tr key={s.settlementId}>
                <td class="mono"><a href={`#/pharmacy/settlements/${encodeURIComponent(s.settlementId)}`} aria-label={`结算 ${shortId(s.settlementId)} 小票`}>{shortId(s.settlementId)}</a></td><td>{dateTime(s.settledAt)}</td>
                <td><Badge tone={`status-${s.status}`}>{settlementStatusLabel[s.status]}</Badge></td>
                <td class="num">{yuan(s.totalFen)}</td><td class="num">{yuan(s.pooledFundFen)}</td><td class="num">{yuan(s.personalAccountFen)}</td><td class="num">{yuan(s.mutualAidFen)}</td><td class="num">{yuan(s.cashFen)}</td>
                <td class="mono">{s.prescriptionId ? shortId(s.prescriptionId) : ''}</td>
                {/* A settlement for a prescription too: the API refuses once its drugs were handed over, and that refusal is shown. */}
                <td>{today && s.status === 'settled' && (
                  <button type="button" class="link danger" disabled={reverse.isPending} aria-label={`冲正结算 ${shortId(s.settlementId)}`}
                    onClick={() => confirm(`冲正结算 ${shortId(s.settlementId)}（${yuan(s.totalFen)}）？${s.prescriptionId ? `本结算关联处方 ${shortId(s.prescriptionId)}，药品已按此结算发出的不能冲正。` : ''}`) && reverse.mutate(s.settlementId)}>冲正</button>
                )}</td>
              </tr>
            ))}</tbody>
          </table>
        )}
      </>}
    </section>
  );
}

/** A settlement's receipt reopened from 当日结算: reprint it, dispense against it, or reverse it. */
function SettlementReceipt({ id }: { id: string }) {
  // Read afresh at each opening (no cache kept): the receipt holds its own copy once shown.
  const s = useQuery({ queryKey: ['settlement', id], queryFn: () => call('getSettlement', { params: { settlementId: id } }), gcTime: 0 });
  if (s.isPending) return <Loading what="结算小票" />;
  if (s.isError) return <><Title actions={<a href="#/pharmacy/settlements">返回当日结算</a>}>结算小票</Title><Alert kind="error">{problemText(s.error)}</Alert></>;
  // Back to the list of the day it was made, whichever day the list showed.
  return <Receipt settlement={s.data} reopened onNext={() => { location.hash = settlementsHref(calendarDay(new Date(s.data.settledAt))); }} />;
}

function Stock() {
  const me = currentSession()!.institutionId!;
  const drugs = useDrugs();
  const name = useDrugName();
  const qc = useQueryClient();
  const stock = useQuery({ queryKey: ['stock', me], queryFn: () => call('getStock', { params: { id: me }, query: { limit: 200 } }) });
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: () => call('putStock', { params: { id: me }, body: { items: Object.entries(edits).map(([drugCode, q]) => ({ drugCode, quantity: Number(q) })) } }),
    onSuccess: () => { setEdits({}); setErrors({}); setSaved(true); void qc.invalidateQueries({ queryKey: ['stock'] }); },
    onError: (e: ApiError) => { setSaved(false); setErrors(problemToFields(e)); },
  });
  const rows = stock.data?.items ?? [];
  const missing = (drugs.data ?? []).filter((d) => !rows.some((r) => r.drugCode === d.drugCode));
  return (
    <section>
      <Title>库存</Title>
      {saved && <Alert kind="ok">库存已保存</Alert>}
      <FormError errors={errors} />
      {stock.isPending ? <Loading /> : (
        <form onSubmit={(e) => { e.preventDefault(); setSaved(false); save.mutate(); }}>
          <table>
            <caption class="sr-only">库存</caption>
            <thead><tr><th scope="col">药品</th><th scope="col" class="num">可用</th><th scope="col" class="num">已预留</th><th scope="col" class="num">已发药</th><th scope="col" class="num">在库数量</th></tr></thead>
            <tbody>{rows.map((r) => (
              <tr key={r.drugCode}>
                <td>{name(r.drugCode)} <span class="muted mono small">{r.drugCode}</span></td>
                <td class="num">{r.available}</td><td class="num">{r.reserved}</td><td class="num">{r.dispensed}</td>
                <td class="num"><input aria-label={`${name(r.drugCode)} 在库数量`} type="number" min={r.reserved} class="qty" value={edits[r.drugCode] ?? String(r.onHand)} onInput={(e) => setEdits({ ...edits, [r.drugCode]: e.currentTarget.value })} /></td>
              </tr>
            ))}</tbody>
          </table>
          {missing.length > 0 && (
            <Field label="新增药品">{(id) => (
              <select id={id} value="" onChange={(e) => e.currentTarget.value && setEdits({ ...edits, [e.currentTarget.value]: '0' })}>
                <option value="">选择药品…</option>
                {missing.filter((d) => !(d.drugCode in edits)).map((d) => <option key={d.drugCode} value={d.drugCode}>{d.name}</option>)}
              </select>
            )}</Field>
          )}
          {Object.keys(edits).filter((c) => !rows.some((r) => r.drugCode === c)).map((c) => (
            <p key={c}>{name(c)}：<input aria-label={`${name(c)} 在库数量`} type="number" min={0} class="qty" value={edits[c]} onInput={(e) => setEdits({ ...edits, [c]: e.currentTarget.value })} /></p>
          ))}
          <button type="submit" class="primary" disabled={!Object.keys(edits).length || save.isPending}>保存库存</button>
        </form>
      )}
    </section>
  );
}

