// The pharmacy counter: scan or paste the patient's voucher code, list what is sold and scan each
// pack's trace code (追溯码), check, see the pre-settlement quote (what the pooled fund, the personal
// account, a relative's account and the patient in cash will pay), confirm (确认结算), print the
// receipt. One Idempotency-Key per attempt: a double click or a retry of the same attempt can never
// charge twice. A sale left unfinished (another screen, a reload, an expired session) comes back
// with whether 确认结算 had been pressed; its new attempt is a new key and a new voucher code, so the
// screen sends the pharmacist to 当日结算 first when it may have been charged. The split is the
// API's (quote and settlement are one computation); the console only shows it.
import { useQuery, useQueryClient } from '@tanstack/preact-query';
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type * as z from 'zod';
import type { Prescription } from '#schemas/prescriptions';
import { settlementRequest, type Settlement, type SettlementQuote } from '#schemas/vouchers';
import { ApiError, call, newIdempotencyKey, outcomeUnknown } from '../../lib/api.ts';
import { currentSession } from '../../lib/auth.ts';
import { useDraft, useSavedDraft } from '../../lib/drafts.ts';
import { calendarDay, dateTime, parseYuan, shortId, yuan } from '../../lib/format.ts';
import { problemToFields, useLineKeys, validate, withoutLine, type FieldErrors } from '../../lib/forms.ts';
import { categoryLabel, prescriptionStatusLabel, problemText } from '../../lib/labels.ts';
import { useMutation } from '../../lib/mutation.ts';
import { useDrugName, useDrugs, useInstitutionName } from '../../shared/names.ts';
import { Alert, announce, Badge, Field, focusTitle, focusWhenShown, FormError, Loading, Money, Title } from '../../shared/ui.tsx';
import { go } from '../../app/router.ts';
import { dispenseItems, owingOf, owingUnpaid, payableBy, scanTraceCodes, soldCodes, undispensedSettlements } from './packs.ts';
import { useRecentSettlements } from './settlements.ts';

interface Line {
  drugCode: string;
  quantity: string;
  price: string;
  /** Trace codes scanned from this line's packs, one per pack, in scanning order. */
  traceCodes: string[];
}
const emptyLine = (): Line => ({ drugCode: '', quantity: '1', price: '', traceCodes: [] });

const packsOf = (l: Line) => (Number.isInteger(Number(l.quantity)) && Number(l.quantity) > 0 ? Number(l.quantity) : 0);

/** A code the API says was sold before (409 trace-code-used), with the line it was scanned on. */
interface SoldCode { line: number; code: string }

/** `retry`: the attempt whose answer was lost, sent again as it was (its quote was shown before the first 确认结算). */
type Step = { kind: 'entry' } | { kind: 'review'; idempotencyKey: string; retry?: boolean } | { kind: 'done'; settlement: Settlement };

/** Characters a scan adds at least: a voucher code is a compact JWS, far longer; a hand correction is not. */
const MIN_SCANNED_CODE = 32;

/** Where a sale was left: at 核对 before 确认结算, or after it was pressed (the answer not seen). */
type Left = 'review' | 'confirming';
/**
 * A sale kept across screens: its lines, the codes the API said were sold (still marked when back),
 * and whether a voucher code was dropped (never kept: it is single-use and lives minutes).
 */
interface CounterDraft { lines: Line[]; prescriptionId?: string; left?: Left; sold?: SoldCode[]; codeDropped?: boolean }

/** An attempt whose 确认结算 got no answer that says what happened: its key and the body it sent. */
interface Unsettled { key: string; sent: string }
/**
 * Attempts of unknown outcome, per counter and per person logged in, in memory only (gone with a
 * reload, like the voucher code they hold): the same sale checked again, after 返回修改 or a look at
 * 当日结算, goes with the same key, and the API answers with the settlement it made, if it made one.
 */
const unsettled = new Map<string, Unsettled>();

/** A 409 saying that settlements made for the prescription already paid for these packs (settle.ts paidTwice). */
const paidElsewhere = (err: ApiError) => err.slug === 'conflict' && (err.problem.errors ?? []).some((e) => /owing are paid by .*, not yet dispensed$/.test(e.message));

/** The form's own fields: an error the API puts on another (prescriptionId) is said above the form. */
const onForm = (path: string) => path === 'code' || path === 'items' || /^items\.\d+\.(drugCode|quantity|unitPriceFen|traceCodes)(\.|$)/.test(path);
/** The counter's words where the shared ones are the prescriber's (开具). */
const counterWords = (errors: FieldErrors): FieldErrors =>
  Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, v === '同一药品不能重复开具' ? '同一药品请合并为一行' : v]));

const rxUnreadable = (rxId: string) => `处方 ${shortId(rxId)} 无法读取：请从“处方”重新选择，或点“不关联”按无处方结算`;

/** 冲正 asked first, wherever a settlement is reversed: what goes back, and the cash to hand back. */
export const reversalQuestion = (s: Settlement, note = '') =>
  `冲正结算 ${shortId(s.settlementId)}（${yuan(s.totalFen)}）？统筹、个人账户${s.mutualAidFen > 0 ? '与家庭共济' : ''}的支付退回原渠道，现金 ${yuan(s.cashFen)} 须当面退还患者；追溯码可再次销售。${note}`;
/** What a reversal did, said after it. */
export const reversedText = (s: Settlement) =>
  `统筹、个人账户${s.mutualAidFen > 0 ? '与家庭共济' : ''}的支付已退回，现金 ${yuan(s.cashFen)} 请退还患者；本单追溯码可再次销售。`;

/** Statuses a prescription can still be settled and dispensed in at this pharmacy. */
export const fillable = (p: Prescription) => p.status === 'routed' || p.status === 'accepted' || p.status === 'partially-dispensed';
/** Why a prescription can no longer be settled or dispensed, in the pharmacist's words. */
export const closedText = (p: Prescription) => (p.status === 'cancelled'
  ? `处方 ${shortId(p.prescriptionId)} 已被开方医生作废`
  : `处方 ${shortId(p.prescriptionId)} ${prescriptionStatusLabel[p.status]}`);

export function Counter({ prescriptionId }: { prescriptionId?: string }) {
  // One sale kept per counter: the walk-in one, and one per prescription settled from its card, so
  // that opening a card does not throw away a sale left at 医保结算 (or its warning).
  const draftKey = prescriptionId ? `pharmacy-counter-${prescriptionId}` : 'pharmacy-counter';
  const draft = useSavedDraft<CounterDraft | null>(draftKey);
  const [left, setLeft] = useState(draft?.left);
  const session = currentSession();
  const attemptKey = `${session?.sub}|${session?.institutionId}|${draftKey}`;
  const [unknown, setUnknownState] = useState(() => unsettled.get(attemptKey));
  const setUnknown = (u: Unsettled | undefined) => {
    if (u) unsettled.set(attemptKey, u);
    else unsettled.delete(attemptKey);
    setUnknownState(u);
  };
  // Put back with the sale whose answer was lost: checked again unchanged, it is that attempt's retry.
  const [code, setCode] = useState(() => (draft?.left === 'confirming' && unknown ? (JSON.parse(unknown.sent) as { code: string }).code : ''));
  const [rxId, setRxId] = useState(prescriptionId ?? draft?.prescriptionId ?? '');
  const [lines, setLines] = useState<Line[]>(draft?.lines.map((l) => ({ ...l, traceCodes: l.traceCodes ?? [] })) ?? [emptyLine()]);
  const [step, setStep] = useState<Step>({ kind: 'entry' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [sold, setSold] = useState<SoldCode[]>(draft?.sold ?? []);
  const lineKeys = useLineKeys(lines.length);
  // Back at a sale left before 核对 with a code scanned: the code is not kept, and the screen says so.
  const [codeDropped, setCodeDropped] = useState(!!draft?.codeDropped && !draft.left && !unknown);
  const drugs = useDrugs();
  const name = useDrugName();
  const qc = useQueryClient();
  const codeRef = useRef<HTMLTextAreaElement>(null);

  const rx = useQuery({ queryKey: ['prescription', rxId], queryFn: () => call('getPrescription', { params: { id: rxId } }), enabled: !!rxId });
  // Paid already (a settlement for it not handed over against, the pharmacist having moved on, or
  // an answer lost): that settlement is dispensed against, and what it paid for is not charged again.
  const recent = useRecentSettlements(!!rxId && step.kind !== 'done');
  const paid = rx.data && recent ? undispensedSettlements(rx.data, recent) : [];
  const unpaid = rx.data && recent ? owingUnpaid(rx.data, paid) : undefined;
  // A prescription chosen: what it still owes and nothing paid for already fills the list (prices are the pharmacy's).
  useEffect(() => {
    if (unpaid?.length && lines.every((l) => !l.drugCode)) setLines(unpaid.map((i) => ({ ...emptyLine(), drugCode: i.drugCode, quantity: String(i.quantity) })));
  }, [unpaid && JSON.stringify(unpaid)]);
  // The form shown (first, or after 返回修改): the keyboard to the code box, for the scanner. Not when
  // she is in a field of it already: an effect runs a frame after the render, and a click into 数量
  // meanwhile (a slow PC) then typed into the code of a sale in doubt, which the API called invalid.
  useEffect(() => {
    const at = document.activeElement;
    if (at && at !== codeRef.current && codeRef.current?.form?.contains(at)) return;
    codeRef.current?.focus();
  }, [step.kind === 'entry']);
  // 核对 and the receipt are new screens without a new address: the keyboard (and a screen reader)
  // goes to their title, as on any other screen (app/router.ts), not back to the page's start.
  useEffect(() => {
    if (step.kind !== 'entry') focusTitle();
  }, [step.kind]);
  // A refused code stays in its box, selected: the patient's next code (a scanner types it) replaces
  // it instead of being appended to it. A scan typed after it anyway (the cursor put back at its end)
  // replaces it too.
  const refusedCode = useRef<string>();
  useEffect(() => {
    if (step.kind !== 'entry' || !errors.code) return;
    refusedCode.current = code;
    codeRef.current?.focus();
    codeRef.current?.select();
  }, [errors, step.kind]);
  const typedCode = (text: string) => {
    const old = refusedCode.current;
    // Only a whole code typed after it (a scan), not a few characters added to correct it.
    if (old && text.startsWith(old) && text.length - old.length >= MIN_SCANNED_CODE) text = text.slice(old.length);
    if (!old || !text.startsWith(old)) refusedCode.current = undefined;
    if (text.trim()) setCodeDropped(false);
    setCode(text);
  };
  /** The scanner's Enter after the code: on to the first drug field still empty, or to 核对 when none is. */
  const codeEntered = (box: HTMLTextAreaElement) => {
    if (!box.value.trim()) return;
    const i = lines.findIndex((l) => !l.drugCode || parseYuan(l.price) === undefined);
    // A sale put back is the pharmacist's to check against the patient first, not the scan's to send on.
    if (i < 0 && left) return box.form?.querySelector<HTMLInputElement>('[data-field="drugCode"]')?.focus();
    if (i < 0) return box.form?.requestSubmit();
    box.form?.querySelectorAll<HTMLInputElement>(`[data-field="${lines[i]!.drugCode ? 'price' : 'drugCode'}"]`)[i]?.focus();
  };

  const body = () => ({
    code: code.trim(),
    ...(rxId ? { prescriptionId: rxId } : {}),
    items: lines.map((l) => ({
      drugCode: l.drugCode,
      quantity: Number(l.quantity),
      unitPriceFen: parseYuan(l.price) ?? -1,
      ...(l.traceCodes.length ? { traceCodes: l.traceCodes } : {}),
    })),
  });

  const review = (e: Event) => {
    e.preventDefault();
    const checked = validate(settlementRequest, body());
    if (!checked.ok) {
      const errs = checked.errors;
      lines.forEach((l, i) => { if (parseYuan(l.price) === undefined) errs[`items.${i}.unitPriceFen`] = '单价：元，最多两位小数，如 12.50'; });
      setErrors(counterWords(errs));
      return;
    }
    settle.reset();
    // The sale whose answer was lost, unchanged: the same attempt again, with its key (no second charge).
    if (unknown && unknown.sent === JSON.stringify(body())) {
      setErrors({});
      setSold([]);
      setStep({ kind: 'review', idempotencyKey: unknown.key, retry: true });
      return;
    }
    // What a settlement not handed over against paid for is dispensed against it, not charged again.
    if (rxId && rx.isError) return setErrors({ '': rxUnreadable(rxId) });
    if (rxId && (!rx.data || !recent)) return setErrors({ '': '正在读取该处方及其已有结算，请稍候再核对' });
    if (rx.data && !fillable(rx.data)) return setErrors({ '': `${closedText(rx.data)}，不能结算` });
    if (rx.data && paid.length) {
      const errs: FieldErrors = {};
      const owed = owingOf(rx.data);
      lines.forEach((l, i) => {
        if (!rx.data!.items.some((it) => it.drugCode === l.drugCode)) return;
        if (!owed.some((o) => o.drugCode === l.drugCode)) return void (errs[`items.${i}.drugCode`] = '此药已按处方发完，不再结算');
        const most = unpaid?.find((u) => u.drugCode === l.drugCode)?.quantity ?? 0;
        if (Number(l.quantity) > most) errs[most ? `items.${i}.quantity` : `items.${i}.drugCode`] = most ? `已有结算未发药：此药最多再结算 ${most} 盒` : '已结算未发药：请按已结算发药，不要再次收费';
      });
      if (Object.keys(errs).length) return setErrors(errs);
    }
    setErrors({});
    setSold([]);
    // One key for this attempt: every click and retry of it sends the same key.
    setStep({ kind: 'review', idempotencyKey: newIdempotencyKey('counter') });
  };

  /** A refused code, item or trace code goes back to the entry form, next to the field. */
  const refused = (err: ApiError) => {
    const fields = counterWords(problemToFields(err, onForm));
    // The prescription named is not this code's person's, or no longer open: which one, from the prescription read again.
    if (err.problem.errors?.some((e) => e.path === 'body.prescriptionId')) {
      void rx.refetch().then((r) => setErrors((e) => {
        const { '': _said, ...rest } = e;
        // Closed: said by the alert above the form.
        return r.data && !fillable(r.data) ? rest : { ...rest, '': '该码不是此处方患者的医保电子凭证：请核对患者，由处方上的患者本人出示医保码' };
      }));
    }
    // The code of the sale in doubt is used: that is the first attempt having gone through, most
    // likely. Never "scan again" then: 当日结算 first.
    if (unknown && err.slug === 'code-already-used' && (JSON.parse(unknown.sent) as { code: string }).code === code) {
      const { '': _rescan, ...rest } = fields;
      setErrors({ ...rest, code: '该码已用于上次未收到结果的那笔结算：很可能已扣款。请先到当日结算核对该患者的这笔结算，不要让患者重新扫码付款。' });
      setStep({ kind: 'entry' });
      return;
    }
    if (err.slug === 'code-already-used' || err.slug === 'code-expired') {
      // Said under the code's box, where the next scan goes; not a second time above the form.
      fields.code = problemText(err);
      delete fields[''];
    }
    // Another desk (or the pharmacy's own system) paid for these packs meanwhile: said as such (the
    // lines name the settlement), and what it made is read, so the counter points to it.
    if (paidElsewhere(err)) {
      fields[''] = '该处方的药品已由另一笔结算付款，尚未发药：请按那笔结算发药，或先冲正，不要再次收费';
      void qc.invalidateQueries({ queryKey: ['settlements'] });
    }
    if (err.slug === 'trace-code-used') {
      setSold(soldCodes(err.problem.errors ?? [], body().items));
      // Listed by the alert above the form instead.
      for (const k of Object.keys(fields)) if (k === '' || k.includes('.traceCodes')) delete fields[k];
    }
    setErrors(fields);
    setStep({ kind: 'entry' });
  };
  // No answer, or none that says what happened (a 5xx, a gateway's timeout, a page that is not the
  // API's): the review step stays, to retry with the same key.
  const retryable = outcomeUnknown;

  const settle = useMutation({
    mutationFn: (a: { key: string; body: z.input<typeof settlementRequest> }) => call('settle', { body: a.body, idempotencyKey: a.key }),
    onSuccess: (settlement) => {
      setLeft(undefined);
      setUnknown(undefined);
      setStep({ kind: 'done', settlement });
      void qc.invalidateQueries({ queryKey: ['settlements'] });
    },
    onError: (err: ApiError, a) => {
      if (outcomeUnknown(err)) {
        // Maybe charged: kept, so that this sale is only ever sent again with this key.
        setUnknown({ key: a.key, sent: JSON.stringify(a.body) });
        setErrors({});
        void qc.invalidateQueries({ queryKey: ['settlements'] });
        return;
      }
      // A retry of the attempt in doubt, refused: that says nothing sure of the first (it may still be
      // under way behind a gateway's timeout, and its code is used either way). Still maybe charged:
      // the attempt is kept, and the pharmacist is sent to 当日结算, never told to scan again.
      if (unknown?.key === a.key) {
        // Not the refusal's own words: for a used code they say to scan again.
        setErrors({ '': '重试未成功。上次的结算可能已扣款（或仍在处理中）：请先到当日结算核对该患者是否已有这笔结算，确认没有再重新结算。' });
        void qc.invalidateQueries({ queryKey: ['settlements'] });
        return;
      }
      refused(err);
    },
  });

  // Kept across a reload, an expired session and a visit to another screen, with where it was left;
  // not once settled (its receipt on screen): put back, the same drugs could be charged twice.
  // A sale that may have been charged stays so until it is settled or given up (下一位患者): the next
  // 核对 of it must not say 未扣款.
  const leftAt: Left | undefined = left === 'confirming' || unknown ? 'confirming' : step.kind !== 'review' ? left : settle.isIdle ? 'review' : 'confirming';
  // A sold code the pharmacist has taken off its line is no longer worth an alert.
  const stillSold = sold.filter((x) => lines[x.line]?.traceCodes.includes(x.code));
  useDraft(draftKey, step.kind === 'done' ? null : ({
    lines, prescriptionId: rxId || undefined, left: leftAt, ...(stillSold.length ? { sold: stillSold } : {}),
    // Until a code is scanned again: left once more meanwhile, the screen still says to scan it.
    ...(code.trim() || codeDropped ? { codeDropped: true } : {}),
  } satisfies CounterDraft), { keepOnLeave: true });

  const next = () => {
    setLeft(undefined);
    setUnknown(undefined);
    setCode('');
    setRxId('');
    setLines([emptyLine()]);
    setErrors({});
    setSold([]);
    setCodeDropped(false);
    settle.reset();
    setStep({ kind: 'entry' });
    if (prescriptionId) go('pharmacy');
  };

  if (step.kind === 'done') return <Receipt settlement={step.settlement} onNext={next} />;

  const totalFen = lines.reduce((n, l) => n + (parseYuan(l.price) ?? 0) * packsOf(l), 0);

  if (step.kind === 'review') {
    const key = step.idempotencyKey;
    // This attempt's answer was lost: 确认结算 again is its retry.
    const sameAttempt = unknown?.key === key;
    // Back to the form: the sale keeps saying it may have been charged.
    const back = () => {
      if (unknown) setLeft('confirming');
      setStep({ kind: 'entry' });
    };
    const buttons = (ready: boolean) => <>
      <FormError errors={errors} />
      <div class="buttons">
        <button type="button" class="primary big" disabled={!ready} aria-disabled={settle.isPending} onClick={() => settle.mutate({ key, body: body() })}>
          {settle.isPending ? '正在结算…' : '确认结算'}
        </button>
        <button type="button" disabled={settle.isPending} onClick={back}>返回修改</button>
      </div>
    </>;
    return (
      <section>
        <Title>核对结算</Title>
        <ItemsTable lines={lines} />
        <p class="total">合计 <Money fen={totalFen} strong /></p>
        {sameAttempt ? <UnknownOutcome /> : (unknown || left === 'confirming') && <ChargedBefore />}
        {step.retry ? buttons(true) : (
          <Quote key={step.idempotencyKey} attempt={step.idempotencyKey} body={body} onRefused={refused} retryable={retryable}>
            {(ready) => buttons(ready)}
          </Quote>
        )}
      </section>
    );
  }

  const taken = (i: number) => new Set(lines.flatMap((l, j) => (j === i ? [] : l.traceCodes)));
  // The button pressed may go with its line: the keyboard goes to the drug of the line now in its place.
  const removeLine = (i: number, box: HTMLElement) => {
    const form = box.closest('form');
    lineKeys.removed(i);
    setLines(lines.filter((_, j) => j !== i));
    setErrors(withoutLine(errors, 'items', i));
    setSold(sold.flatMap((s) => (s.line === i ? [] : [s.line > i ? { ...s, line: s.line - 1 } : s])));
    focusWhenShown(() => form?.querySelectorAll<HTMLElement>('[data-field="drugCode"]')[Math.min(i, lines.length - 2)]);
  };
  return (
    <form onSubmit={review} novalidate>
      <Title>医保结算</Title>
      {(left || unknown) && <Resumed left={unknown ? 'confirming' : left!} retry={!!unknown} />}
      {codeDropped && <p class="alert info" role="status">{lines.some((l) => l.drugCode) ? '药品已恢复；' : ''}医保码不保留（二维码有效期短），请患者刷新医保码后重新扫码。</p>}
      {rx.data && !fillable(rx.data) ? <Closed rx={rx.data} paid={paid} /> : rx.data && paid.length > 0 && <AlreadyPaid rxId={rxId} paid={paid} rest={!!unpaid?.length} />}
      <FormError errors={errors} />
      {stillSold.length > 0 && (
        <div class="alert error" role="alert">
          <p>以下追溯码已被销售，同一追溯码只能销售一次。请核对药盒，删除这些追溯码后重新扫码：</p>
          <ul>{stillSold.map((s) => <li key={s.code}>第 {s.line + 1} 行 {name(lines[s.line]?.drugCode ?? '')}：<span class="mono">{s.code}</span></li>)}</ul>
        </div>
      )}
      <div class="row">
        <Field label="医保电子凭证码" hint="扫码枪扫描患者二维码（扫码后回车进入下一项），或粘贴码值" error={errors.code} wide>
          {(id, d) => <textarea id={id} ref={codeRef} rows={2} class="mono" value={code} aria-describedby={d} onInput={(e) => typedCode(e.currentTarget.value)}
            onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); codeEntered(e.currentTarget); } }} />}
        </Field>
        {rxId && (
          <div class="field">
            <span class="label">关联处方</span>
            {/* What 核对 said above the form was about this prescription, most likely: gone with it. The
                button goes too: the keyboard to the patient's code. */}
            <p>处方 {shortId(rxId)} <button type="button" class="link" onClick={() => { setRxId(''); setErrors(({ '': _, ...rest }) => rest); codeRef.current?.focus(); }}>不关联</button></p>
          </div>
        )}
      </div>
      {/* Not found (mistyped, or re-routed to another pharmacy): said, not "正在读取" for ever. */}
      {rxId && rx.isError && <Alert kind="error">{rxUnreadable(rxId)}（{problemText(rx.error)}）</Alert>}
      <fieldset>
        <legend>药品</legend>
        {errors.items && <p class="alert error" role="alert">{errors.items}</p>}
        <datalist id="drug-list">{(drugs.data ?? []).map((d) => <option key={d.drugCode} value={d.drugCode}>{d.name}（{categoryLabel[d.category]}）</option>)}</datalist>
        {lines.map((l, i) => (
          <LineFields key={lineKeys.keys[i]} index={i} line={l} errors={errors} taken={taken(i)} sold={new Set(sold.filter((s) => s.line === i).map((s) => s.code))}
            onChange={(nl) => setLines(lines.map((x, j) => (j === i ? nl : x)))}
            onRemove={lines.length > 1 ? (box) => removeLine(i, box) : undefined} />
        ))}
        <button type="button" onClick={() => setLines([...lines, emptyLine()])}>添加药品</button>
      </fieldset>
      <p class="total">合计 <Money fen={totalFen} strong /></p>
      <button type="submit" class="primary big">下一步：核对</button>
    </form>
  );
}

/**
 * A sale put back after it was left at 核对 (a reload, an expired session, another screen): whether
 * the patient may have been charged. Before 确认结算 nothing was sent. After it, the answer was not
 * seen: 当日结算 says whether it went through, before the patient is asked to scan again.
 */
function Resumed({ left, retry }: { left: Left; retry?: boolean }) {
  return left === 'review'
    ? <p class="alert info" role="status">上次核对结算未完成：结算尚未提交，未扣款。药品已恢复，请核对是同一位患者，再让其刷新医保码后重新扫码。</p>
    : retry ? (
      // The attempt is kept (this tab, this login): unchanged, it is sent again with its key.
      <p class="alert error" role="alert">
        上次点击“确认结算”后未收到结果，不能确定是否已扣款。医保码与药品已恢复：不作改动，点“下一步：核对”再点“确认结算”即为重试，不会重复扣款；如有改动将是一笔新的结算，请先到 <a href="#/pharmacy/settlements">当日结算</a> 核对。
      </p>
    ) : (
      <p class="alert error" role="alert">
        上次点击“确认结算”后未收到结果，不能确定是否已扣款。请先到 <a href="#/pharmacy/settlements">当日结算</a> 核对该患者的这笔结算，避免重复收费；没有再请患者刷新医保码后重新扫码。
      </p>
    );
}

/** 确认结算 of this attempt got no answer that says what happened: the same key again cannot charge twice. */
function UnknownOutcome() {
  return (
    <p class="alert error" role="alert">
      结算结果未知：可能已扣款。请点 确认结算 重试（不会重复扣款），或先到 <a href="#/pharmacy/settlements">当日结算</a> 核对。
    </p>
  );
}

/** A new attempt after one whose outcome is unknown: said before it charges. */
function ChargedBefore() {
  return (
    <p class="alert error" role="alert">
      注意：上次点击“确认结算”后未收到结果，可能已扣款。本次为一笔新的结算：请先到 <a href="#/pharmacy/settlements">当日结算</a> 核对该患者是否已有这笔结算，确认没有再点 确认结算，避免重复收费。
    </p>
  );
}

/** A prescription paid by a settlement not handed over against: dispensed against that, not charged again. */
function AlreadyPaid({ rxId, paid, rest }: { rxId: string; paid: Settlement[]; rest: boolean }) {
  return (
    <div class="alert error" role="alert">
      <p>处方 {shortId(rxId)} 已结算、尚未发药：请按该结算发药，不要让患者再付一次。{rest ? '下方只列出该结算未包含、仍需结算的药品。' : ''}</p>
      <PaidBy paid={paid} go="按已结算发药" />
    </div>
  );
}

/** The settlements made for a prescription, each linked to its receipt, where `go` is done. */
function PaidBy({ paid, go, cash }: { paid: Settlement[]; go: string; cash?: boolean }) {
  return (
    <ul>{paid.map((s) => (
      <li key={s.settlementId}>
        结算 <span class="mono">{shortId(s.settlementId)}</span>（{dateTime(s.settledAt)}，{yuan(s.totalFen)}{cash && `，现金 ${yuan(s.cashFen)}`}）{' '}
        <a href={`#/pharmacy/settlements/${encodeURIComponent(s.settlementId)}`} aria-label={`${go}（结算 ${shortId(s.settlementId)}）`}>{go}</a>
      </li>
    ))}</ul>
  );
}

/** A prescription no longer to be filled (the prescriber cancelled it, it expired): a settlement made for it is reversed. */
function Closed({ rx, paid }: { rx: Prescription; paid: Settlement[] }) {
  return (
    <div class="alert error" role="alert">
      <p>{closedText(rx)}，不能再结算或发药。{paid.length > 0 && '已为它结算的款项请于结算当日冲正，并退还患者：'}</p>
      {paid.length > 0 && <PaidBy paid={paid} go="去冲正" cash />}
    </div>
  );
}

function LineFields(props: { index: number; line: Line; errors: FieldErrors; taken: Set<string>; sold: Set<string>; onChange: (l: Line) => void; onRemove?: (button: HTMLElement) => void }) {
  const { index: i, line, errors } = props;
  const name = useDrugName();
  const quantity = useRef<HTMLInputElement>(null);
  const price = useRef<HTMLInputElement>(null);
  // A drug's barcode scanned ends in Enter, as the voucher code's does: on to the next field of the
  // line, not a 核对 of a line half filled (its 单价 marked before the pharmacist reached it).
  const onTo = (next: { current: HTMLInputElement | null }) => (e: KeyboardEvent) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    if (!(e.currentTarget as HTMLInputElement).value.trim()) return;
    next.current?.focus();
    next.current?.select();
  };
  return (
    <div class="row line" role="group" aria-label={`第 ${i + 1} 行药品`}>
      <Field label="药品编码" error={errors[`items.${i}.drugCode`]} hint={line.drugCode ? name(line.drugCode) : undefined}>
        {(id, d) => <input id={id} data-field="drugCode" list="drug-list" class="mono" value={line.drugCode} aria-describedby={d} autocomplete="off" onKeyDown={onTo(quantity)} onInput={(e) => props.onChange({ ...line, drugCode: e.currentTarget.value.trim().toUpperCase() })} />}
      </Field>
      <Field label="数量" error={errors[`items.${i}.quantity`]}>
        {(id, d) => <input id={id} ref={quantity} type="number" min={1} step={1} inputMode="numeric" value={line.quantity} aria-describedby={d} onKeyDown={onTo(price)} onInput={(e) => props.onChange({ ...line, quantity: e.currentTarget.value })} />}
      </Field>
      <Field label="单价（元）" error={errors[`items.${i}.unitPriceFen`]}>
        {(id, d) => <input id={id} ref={price} data-field="price" inputMode="decimal" value={line.price} placeholder="0.00" aria-describedby={d} onInput={(e) => props.onChange({ ...line, price: e.currentTarget.value })} />}
      </Field>
      {props.onRemove && <button type="button" class="link" onClick={(e) => props.onRemove!(e.currentTarget)}>删除第 {i + 1} 行</button>}
      <TraceCodes index={i} line={line} taken={props.taken} sold={props.sold} error={Object.entries(errors).find(([k]) => k.startsWith(`items.${i}.traceCodes`))?.[1]}
        onChange={(traceCodes) => props.onChange({ ...line, traceCodes })} />
    </div>
  );
}

/**
 * The trace codes of one line: a scanner types a code and Enter, which appends it (several codes
 * pasted at once are split). One code per pack: no more codes than packs, none twice. Packs left
 * unscanned are paid in cash only where the province requires trace codes (the API says so per line).
 */
function TraceCodes(props: { index: number; line: Line; taken: Set<string>; sold: Set<string>; error?: string; onChange: (codes: string[]) => void }) {
  const { line } = props;
  const id = useId();
  const [scan, setScan] = useState('');
  const [problem, setProblem] = useState<string>();
  const packs = packsOf(line);
  const codes = line.traceCodes;
  const add = () => {
    const r = scanTraceCodes(scan, { codes, packs }, props.taken);
    props.onChange(r.codes);
    setScan(r.left);
    setProblem(r.problem);
    // The scanner's Enter leaves the keyboard here, where a new error under the box is not read by itself.
    if (r.problem) announce(r.problem);
  };
  // Its button goes with the code: the keyboard goes back to where the next code is scanned.
  const removeCode = (c: string) => {
    props.onChange(codes.filter((x) => x !== c));
    document.getElementById(id)?.focus();
  };
  const untraced = Math.max(0, packs - codes.length);
  const error = problem ?? props.error;
  return (
    <div class={`field wide trace${error ? ' invalid' : ''}`}>
      <label for={id}>追溯码</label>
      <div class="scan">
        <input id={id} class="mono" autocomplete="off" inputMode="numeric" value={scan} aria-invalid={!!error}
          aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
          onInput={(e) => setScan(e.currentTarget.value)}
          onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); add(); } }} />
        <button type="button" onClick={add}>扫入</button>
      </div>
      <small id={`${id}-hint`} class="hint">
        每盒扫一个追溯码：已扫 {codes.length} / {packs} 盒{untraced > 0 ? `；未扫码的 ${untraced} 盒按现金支付，医保不予支付` : ''}
      </small>
      {error && <small id={`${id}-error`} class="error">{error}</small>}
      {codes.length > 0 && (
        <ul class="codes" aria-label={`第 ${props.index + 1} 行已扫追溯码`}>
          {codes.map((c) => (
            <li key={c} class={props.sold.has(c) ? 'sold' : undefined}>
              <span class="mono">{c}</span>
              {props.sold.has(c) && <Badge tone="danger">已被销售</Badge>}
              <button type="button" class="link" aria-label={`删除追溯码 ${c}`} onClick={() => removeCode(c)}>删除</button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ItemsTable({ lines }: { lines: Line[] }) {
  const name = useDrugName();
  return (
    <table>
      <caption class="sr-only">结算药品</caption>
      <thead><tr><th scope="col">药品</th><th scope="col" class="num">数量</th><th scope="col" class="num">单价</th><th scope="col" class="num">金额</th><th scope="col">追溯码</th></tr></thead>
      <tbody>
        {lines.map((l, i) => {
          const price = parseYuan(l.price) ?? 0;
          return (
            <tr key={i}>
              <td>{name(l.drugCode)}</td><td class="num">{l.quantity}</td><td class="num">{yuan(price)}</td><td class="num">{yuan(price * packsOf(l))}</td>
              <td class="nowrap">已扫 {l.traceCodes.length} / {packsOf(l)} 盒</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/**
 * The pre-settlement quote (POST /settlements/quote): the split the settlement will make, shown
 * before the patient pays. It checks the code and the trace codes without using them; a refusal
 * goes back to the entry form like a refused settlement. Settling waits for it.
 */
function Quote(props: {
  attempt: string;
  body: () => z.input<typeof settlementRequest>;
  onRefused: (err: ApiError) => void;
  retryable: (err: ApiError) => boolean;
  children: (ready: boolean) => ComponentChildren;
}) {
  const q = useQuery({
    queryKey: ['quote', props.attempt],
    queryFn: () => call('quoteSettlement', { body: props.body() }),
    retry: false,
    staleTime: Infinity,
    gcTime: 0,
    refetchOnWindowFocus: false,
  });
  const refusal = q.error instanceof ApiError && !props.retryable(q.error) ? q.error : undefined;
  useEffect(() => {
    if (refusal) props.onRefused(refusal);
  }, [refusal]);
  const region = useRef<HTMLDivElement>(null);
  // 重新预结算 goes with the failure it answered: the keyboard to the split it brought, to read out.
  const again = () => void q.refetch().then((r) => r.isSuccess && region.current?.focus());
  return (
    <>
      <div class="receipt quote" role="region" aria-label="预结算" ref={region} tabIndex={-1}>
        <h2>预结算</h2>
        {q.isPending ? <Loading what="预结算" /> : q.isError ? (
          <>
            <Alert kind="error">{problemText(q.error)}</Alert>
            <button type="button" onClick={again}>重新预结算</button>
          </>
        ) : (
          <>
            <Split s={q.data} quote />
            <Untraced s={q.data} />
            <p class="small muted">预结算不扣款。请向患者说明各项金额，确认后点击“确认结算”。</p>
          </>
        )}
      </div>
      {props.children(q.isSuccess)}
    </>
  );
}

/** The parts of a quote or a settlement; family mutual aid shown in a quote always, on a receipt when it paid. */
function Split({ s, quote }: { s: SettlementQuote | Settlement; quote?: boolean }) {
  return (
    <>
      {/* Whose code it is: a code shown by someone other than the patient is caught before charging. */}
      {s.patient && (
        <p class="patient">参保人 <strong>{s.patient.name}</strong>（<span class="mono">{s.patient.nationalIdMasked}</span>）{quote && <span class="muted small"> 请核对是否为患者本人</span>}</p>
      )}
      <dl class="split">
        <dt>费用总额</dt><dd><Money fen={s.totalFen} /></dd>
        <dt>医保统筹支付</dt><dd><Money fen={s.pooledFundFen} /></dd>
        <dt>个人账户支付</dt><dd><Money fen={s.personalAccountFen} /></dd>
        {(quote || s.mutualAidFen > 0) && <><dt>家庭共济支付</dt><dd><Money fen={s.mutualAidFen} /></dd></>}
        <dt class="pay">现金支付</dt><dd class="pay"><Money fen={s.cashFen} strong /></dd>
      </dl>
      {s.mutualAidPayerId && s.mutualAidFen > 0 && (
        <p class="small">家庭共济：由绑定的家庭成员（共济人编号 <span class="mono">{shortId(s.mutualAidPayerId)}</span>）的个人账户支付 {yuan(s.mutualAidFen)}</p>
      )}
      {s.deductibleAppliedFen > 0 && <p class="small muted">其中计入起付线 {yuan(s.deductibleAppliedFen)}</p>}
    </>
  );
}

function Untraced({ s }: { s: SettlementQuote | Settlement }) {
  const name = useDrugName();
  const lines = s.items.filter((i) => i.untracedPacks > 0);
  if (!lines.length) return null;
  return (
    <ul class="small untraced" aria-label="未扫追溯码">
      {lines.map((i) => <li key={i.drugCode}>{name(i.drugCode)}：{i.untracedPacks} 盒未扫追溯码，按现金支付</li>)}
    </ul>
  );
}

/**
 * A settlement's receipt, just settled (下一位患者 next) or reopened from 当日结算 (back to the list):
 * print it, dispense against it while its prescription has not been handed over against it, and
 * reverse it the same day until then.
 */
export function Receipt({ settlement, onNext, reopened }: { settlement: Settlement; onNext: () => void; reopened?: boolean }) {
  const [s, setS] = useState(settlement);
  const pharmacy = useInstitutionName(currentSession()?.institutionId);
  const name = useDrugName();
  const qc = useQueryClient();
  const rx = useQuery({ queryKey: ['prescription', s.prescriptionId], queryFn: () => call('getPrescription', { params: { id: s.prescriptionId! } }), enabled: !!s.prescriptionId });
  const dispense = useMutation({
    mutationFn: () => call('dispensePrescription', { params: { id: s.prescriptionId! }, body: { settlementId: s.settlementId, ...(rx.data ? dispenseItems(rx.data, s) : {}) } }),
    onSuccess: (p) => {
      qc.setQueryData(['prescription', p.prescriptionId], p);
      void qc.invalidateQueries({ queryKey: ['prescriptions'] });
    },
    // Refused (the prescriber cancelled it meanwhile, it expired): read again, to say which.
    onError: () => void rx.refetch(),
  });
  const reverse = useMutation({
    mutationFn: () => call('reverseSettlement', { params: { settlementId: s.settlementId } }),
    onSuccess: (r) => {
      setS(r);
      void qc.invalidateQueries({ queryKey: ['settlements'] });
    },
    // Refused (reversed at another desk, handed over against, its day gone): the receipt is read
    // again, so it shows what the settlement is now and offers 冲正 no more.
    onError: () => {
      call('getSettlement', { params: { settlementId: s.settlementId } }).then(setS, () => undefined);
      void qc.invalidateQueries({ queryKey: ['settlements'] });
    },
  });
  const reversed = s.status === 'reversed';
  // Handed over against already (a reopened receipt): not reversed (the API refuses it), and dispensed
  // against again only for packs it paid for and a partial dispense left owing.
  const used = !!rx.data && ((rx.data.dispenses ?? []).some((d) => d.settlementId === s.settlementId) || rx.data.settlementId === s.settlementId);
  // Said by the settlement itself too, so 冲正 is not offered while the prescription loads.
  const handedOver = used || !!s.handedOverAt;
  const left = rx.data ? payableBy(rx.data, s) : [];
  const spent = used && !!rx.data && (!fillable(rx.data) || !left.length);
  const sameDay = calendarDay(new Date(s.settledAt)) === calendarDay();
  // No longer to be filled: nothing to hand over against this settlement, whose money goes back.
  const closed = !!rx.data && !used && !dispense.isSuccess && !fillable(rx.data);
  return (
    <section>
      <Title actions={<>
        <button type="button" onClick={() => print()}>打印小票</button>
        <button type="button" class="primary" onClick={onNext}>{reopened ? '返回结算列表' : '下一位患者'}</button>
      </>}>{reversed ? '已冲正' : reopened ? '结算小票' : '结算成功'}</Title>
      <div class="receipt" aria-label="结算小票" role="region">
        <h2>{pharmacy} · 医保结算单</h2>
        <p class="muted">结算号 {shortId(s.settlementId)} · {dateTime(s.settledAt)}{s.prescriptionId && ` · 处方 ${shortId(s.prescriptionId)}`}{reversed && <> · <Badge tone="status-reversed">已冲正</Badge></>}</p>
        <table>
          <thead><tr><th scope="col">药品</th><th scope="col">类别</th><th scope="col" class="num">数量</th><th scope="col" class="num">追溯码</th><th scope="col" class="num">金额</th></tr></thead>
          <tbody>{s.items.map((i) => (
            <tr key={i.drugCode}><td>{name(i.drugCode)}</td><td>{categoryLabel[i.category]}</td><td class="num">{i.quantity}</td><td class="num nowrap">{i.traceCodes?.length ?? 0} / {i.quantity}</td><td class="num">{yuan(i.amountFen)}</td></tr>
          ))}</tbody>
        </table>
        <Split s={s} />
        <Untraced s={s} />
        {/* Handed over in part against it: what it still pays for, handed over with 按此结算发药. */}
        {used && !spent && !dispense.isSuccess && <p>已按此结算部分发药；尚可按此结算交付：{left.map((i) => `${name(i.drugCode)} ×${i.quantity}`).join('、')}，无需再次收费。</p>}
      </div>
      <div class="buttons no-print">
        {s.prescriptionId && !reversed && (dispense.isSuccess ? <Dispensed rx={dispense.data} /> : spent ? (
          <Alert kind="ok">已按此结算为处方 {shortId(s.prescriptionId)} 发药</Alert>
        ) : closed ? (
          <Alert kind="error">
            {closedText(rx.data!)}，不能按此结算发药。{sameDay ? `请今日冲正本结算，将款项退还患者（现金 ${yuan(s.cashFen)} 当面退还）。` : '冲正只能在结算当日进行，请联系平台运营方处理退款。'}
          </Alert>
        ) : (
          <button type="button" class="primary" disabled={!rx.data} aria-disabled={dispense.isPending} onClick={() => dispense.mutate()}>按此结算发药</button>
        ))}
        {!reversed && !dispense.isSuccess && !handedOver && sameDay && (
          // Not while dispensing: one or the other. Busy reversing: aria-disabled, the keyboard stays.
          <button type="button" class="danger" disabled={dispense.isPending} aria-disabled={reverse.isPending}
            onClick={() => !reverse.isPending && confirm(reversalQuestion(s)) && reverse.mutate()}>冲正</button>
        )}
      </div>
      {/* Focused: 冲正 (or 按此结算发药) is gone with what it did. */}
      {reverse.isSuccess && <Alert kind="ok" focus>已冲正：{reversedText(s)}</Alert>}
      {/* Reopened after its reversal: the cash went back then, not again now. */}
      {reversed && !reverse.isSuccess && <Alert kind="info">已于 {dateTime(s.reversedAt ?? s.settledAt)} 冲正，款项已退回。</Alert>}
      {dispense.isError && !closed && <Alert kind="error">{problemText(dispense.error)}</Alert>}
      {/* Focused: 冲正 went with the receipt read again. */}
      {reverse.isError && <Alert kind="error" focus>{problemText(reverse.error)}</Alert>}
    </section>
  );
}

function Dispensed({ rx }: { rx: Prescription }) {
  return <Alert kind="ok" focus>{dispensedText(rx, useDrugName())}</Alert>;
}

/** What a dispense did, in words: all handed over, or what is still owed and kept for the patient. */
export function dispensedText(rx: Prescription, name: (drugCode: string) => string): string {
  if (rx.status !== 'partially-dispensed') return `处方 ${shortId(rx.prescriptionId)} 已发药`;
  return `处方 ${shortId(rx.prescriptionId)} 部分发药：尚欠 ${owingOf(rx).map((i) => `${name(i.drugCode)} ×${i.quantity}`).join('、')}，已为患者保留；到货后在“处方”中通知取药。`;
}
