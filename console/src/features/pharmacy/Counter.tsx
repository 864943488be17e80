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
import { ApiError, call, newIdempotencyKey } from '../../lib/api.ts';
import { currentSession } from '../../lib/auth.ts';
import { useDraft, useSavedDraft } from '../../lib/drafts.ts';
import { calendarDay, dateTime, parseYuan, shortId, yuan } from '../../lib/format.ts';
import { problemToFields, validate, type FieldErrors } from '../../lib/forms.ts';
import { categoryLabel, problemText } from '../../lib/labels.ts';
import { useMutation } from '../../lib/mutation.ts';
import { useDrugName, useDrugs, useInstitutionName } from '../../shared/names.ts';
import { Alert, Badge, Field, focusTitle, FormError, Loading, Money, Title } from '../../shared/ui.tsx';
import { go } from '../../app/router.ts';
import { dispenseItems, owingOf, scanTraceCodes, soldCodes } from './packs.ts';

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

type Step = { kind: 'entry' } | { kind: 'review'; idempotencyKey: string } | { kind: 'done'; settlement: Settlement };

/** Characters a scan adds at least: a voucher code is a compact JWS, far longer; a hand correction is not. */
const MIN_SCANNED_CODE = 32;

/** Where a sale was left: at 核对 before 确认结算, or after it was pressed (the answer not seen). */
type Left = 'review' | 'confirming';
interface CounterDraft { lines: Line[]; prescriptionId?: string; left?: Left }

export function Counter({ prescriptionId }: { prescriptionId?: string }) {
  // One sale kept per counter: the walk-in one, and one per prescription settled from its card, so
  // that opening a card does not throw away a sale left at 医保结算 (or its warning).
  const draftKey = prescriptionId ? `pharmacy-counter-${prescriptionId}` : 'pharmacy-counter';
  const draft = useSavedDraft<CounterDraft | null>(draftKey);
  const [left, setLeft] = useState(draft?.left);
  const [code, setCode] = useState('');
  const [rxId, setRxId] = useState(prescriptionId ?? draft?.prescriptionId ?? '');
  const [lines, setLines] = useState<Line[]>(draft?.lines.map((l) => ({ ...l, traceCodes: l.traceCodes ?? [] })) ?? [emptyLine()]);
  const [step, setStep] = useState<Step>({ kind: 'entry' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [sold, setSold] = useState<SoldCode[]>([]);
  const drugs = useDrugs();
  const name = useDrugName();
  const qc = useQueryClient();
  const codeRef = useRef<HTMLTextAreaElement>(null);

  const rx = useQuery({ queryKey: ['prescription', rxId], queryFn: () => call('getPrescription', { params: { id: rxId } }), enabled: !!rxId });
  // A prescription chosen: what it still owes fills the list (prices are the pharmacy's).
  useEffect(() => {
    if (rx.data && lines.every((l) => !l.drugCode)) setLines(owingOf(rx.data).map((i) => ({ ...emptyLine(), drugCode: i.drugCode, quantity: String(i.quantity) })));
  }, [rx.data]);
  useEffect(() => codeRef.current?.focus(), [step.kind === 'entry']);
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
      setErrors(errs);
      return;
    }
    setErrors({});
    setSold([]);
    // One key for this attempt: every click and retry of it sends the same key.
    setStep({ kind: 'review', idempotencyKey: newIdempotencyKey('counter') });
  };

  /** A refused code, item or trace code goes back to the entry form, next to the field. */
  const refused = (err: ApiError) => {
    const fields = problemToFields(err);
    if (err.slug === 'code-already-used' || err.slug === 'code-expired') {
      // Said under the code's box, where the next scan goes; not a second time above the form.
      fields.code = problemText(err);
      delete fields[''];
    }
    if (err.slug === 'trace-code-used') {
      setSold(soldCodes(err.problem.errors ?? [], body().items));
      // Listed by the alert above the form instead.
      for (const k of Object.keys(fields)) if (k === '' || k.includes('.traceCodes')) delete fields[k];
    }
    setErrors(fields);
    setStep({ kind: 'entry' });
  };
  // A network failure (or a busy service) stays on the review step, to retry with the same key.
  const retryable = (err: ApiError) => err.status === 0 || err.slug === 'service-unavailable';

  const settle = useMutation({
    mutationFn: (key: string) => call('settle', { body: body(), idempotencyKey: key }),
    onSuccess: (settlement) => {
      setLeft(undefined);
      setStep({ kind: 'done', settlement });
      void qc.invalidateQueries({ queryKey: ['settlements'] });
    },
    onError: (err: ApiError) => (retryable(err) ? setErrors(problemToFields(err)) : refused(err)),
  });

  // Kept across a reload, an expired session and a visit to another screen, with where it was left;
  // not once settled (its receipt on screen): put back, the same drugs could be charged twice.
  // A sale that may have been charged stays so until it is settled or given up (下一位患者): the next
  // 核对 of it must not say 未扣款.
  const leftAt: Left | undefined = left === 'confirming' ? left : step.kind !== 'review' ? left : settle.isIdle ? 'review' : 'confirming';
  useDraft(draftKey, step.kind === 'done' ? null : ({ lines, prescriptionId: rxId || undefined, left: leftAt } satisfies CounterDraft), { keepOnLeave: true });

  const next = () => {
    setLeft(undefined);
    setCode('');
    setRxId('');
    setLines([emptyLine()]);
    setErrors({});
    setSold([]);
    settle.reset();
    setStep({ kind: 'entry' });
    if (prescriptionId) go('pharmacy');
  };

  if (step.kind === 'done') return <Receipt settlement={step.settlement} onNext={next} />;

  const totalFen = lines.reduce((n, l) => n + (parseYuan(l.price) ?? 0) * packsOf(l), 0);

  if (step.kind === 'review') {
    return (
      <section>
        <Title>核对结算</Title>
        <ItemsTable lines={lines} />
        <p class="total">合计 <Money fen={totalFen} strong /></p>
        <Quote key={step.idempotencyKey} attempt={step.idempotencyKey} body={body} onRefused={refused} retryable={retryable}>
          {(ready) => <>
            <FormError errors={errors} />
            <div class="buttons">
              <button type="button" class="primary big" disabled={!ready || settle.isPending} onClick={() => settle.mutate(step.idempotencyKey)}>
                {settle.isPending ? '正在结算…' : '确认结算'}
              </button>
              <button type="button" disabled={settle.isPending} onClick={() => setStep({ kind: 'entry' })}>返回修改</button>
            </div>
          </>}
        </Quote>
      </section>
    );
  }

  const taken = (i: number) => new Set(lines.flatMap((l, j) => (j === i ? [] : l.traceCodes)));
  // A sold code the pharmacist has taken off its line is no longer worth an alert.
  const stillSold = sold.filter((x) => lines[x.line]?.traceCodes.includes(x.code));
  return (
    <form onSubmit={review} novalidate>
      <Title>医保结算</Title>
      {left && <Resumed left={left} />}
      <FormError errors={errors} />
      {stillSold.length > 0 && (
        <div class="alert error" role="alert">
          <p>以下追溯码已被销售，同一追溯码只能销售一次。请核对药盒，删除这些追溯码后重新扫码：</p>
          <ul>{stillSold.map((s) => <li key={s.code}>第 {s.line + 1} 行 {name(lines[s.line]?.drugCode ?? '')}：<span class="mono">{s.code}</span></li>)}</ul>
        </div>
      )}
      <div class="row">
        <Field label="医保电子凭证码" hint="扫码枪扫描患者二维码（扫码后回车进入下一项），或粘贴码值" error={errors.code} wide>
          {(id, d) => <textarea id={id} ref={codeRef} rows={2} class="mono" value={code} aria-describedby={d} aria-invalid={!!errors.code} onInput={(e) => typedCode(e.currentTarget.value)}
            onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); codeEntered(e.currentTarget); } }} />}
        </Field>
        {rxId && (
          <div class="field">
            <span class="label">关联处方</span>
            <p>处方 {shortId(rxId)} <button type="button" class="link" onClick={() => setRxId('')}>不关联</button></p>
          </div>
        )}
      </div>
      <fieldset>
        <legend>药品</legend>
        {errors.items && <p class="alert error" role="alert">{errors.items}</p>}
        <datalist id="drug-list">{(drugs.data ?? []).map((d) => <option key={d.drugCode} value={d.drugCode}>{d.name}（{categoryLabel[d.category]}）</option>)}</datalist>
        {lines.map((l, i) => (
          <LineFields key={i} index={i} line={l} errors={errors} taken={taken(i)} sold={new Set(sold.filter((s) => s.line === i).map((s) => s.code))}
            onChange={(nl) => setLines(lines.map((x, j) => (j === i ? nl : x)))}
            onRemove={lines.length > 1 ? () => setLines(lines.filter((_, j) => j !== i)) : undefined} />
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
function Resumed({ left }: { left: Left }) {
  return left === 'review'
    ? <p class="alert info" role="status">上次核对结算未完成：结算尚未提交，未扣款。药品已恢复，请核对是同一位患者，再让其刷新医保码后重新扫码。</p>
    : (
      <p class="alert error" role="alert">
        上次点击“确认结算”后未收到结果，不能确定是否已扣款。请先到 <a href="#/pharmacy/settlements">当日结算</a> 核对该患者的这笔结算，避免重复收费；没有再请患者刷新医保码后重新扫码。
      </p>
    );
}

function LineFields(props: { index: number; line: Line; errors: FieldErrors; taken: Set<string>; sold: Set<string>; onChange: (l: Line) => void; onRemove?: () => void }) {
  const { index: i, line, errors } = props;
  const name = useDrugName();
  return (
    <div class="row line" role="group" aria-label={`第 ${i + 1} 行药品`}>
      <Field label="药品编码" error={errors[`items.${i}.drugCode`]} hint={line.drugCode ? name(line.drugCode) : undefined}>
        {(id, d) => <input id={id} data-field="drugCode" list="drug-list" class="mono" value={line.drugCode} aria-describedby={d} autocomplete="off" onInput={(e) => props.onChange({ ...line, drugCode: e.currentTarget.value.trim().toUpperCase() })} />}
      </Field>
      <Field label="数量" error={errors[`items.${i}.quantity`]}>
        {(id, d) => <input id={id} type="number" min={1} step={1} inputMode="numeric" value={line.quantity} aria-describedby={d} onInput={(e) => props.onChange({ ...line, quantity: e.currentTarget.value })} />}
      </Field>
      <Field label="单价（元）" error={errors[`items.${i}.unitPriceFen`]}>
        {(id, d) => <input id={id} data-field="price" inputMode="decimal" value={line.price} placeholder="0.00" aria-describedby={d} onInput={(e) => props.onChange({ ...line, price: e.currentTarget.value })} />}
      </Field>
      {props.onRemove && <button type="button" class="link" onClick={props.onRemove}>删除第 {i + 1} 行</button>}
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
              <button type="button" class="link" aria-label={`删除追溯码 ${c}`} onClick={() => props.onChange(codes.filter((x) => x !== c))}>删除</button>
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
  return (
    <>
      <div class="receipt quote" role="region" aria-label="预结算">
        <h2>预结算</h2>
        {q.isPending ? <Loading what="预结算" /> : q.isError ? (
          <>
            <Alert kind="error">{problemText(q.error)}</Alert>
            <button type="button" onClick={() => void q.refetch()}>重新预结算</button>
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
  });
  const reverse = useMutation({
    mutationFn: () => call('reverseSettlement', { params: { settlementId: s.settlementId } }),
    onSuccess: (r) => {
      setS(r);
      void qc.invalidateQueries({ queryKey: ['settlements'] });
    },
  });
  const reversed = s.status === 'reversed';
  // Handed over against already (a reopened receipt): neither dispensed again nor reversed (the API refuses both).
  const used = !!rx.data && ((rx.data.dispenses ?? []).some((d) => d.settlementId === s.settlementId) || rx.data.settlementId === s.settlementId);
  const sameDay = calendarDay(new Date(s.settledAt)) === calendarDay();
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
            <tr key={i.drugCode}><td>{name(i.drugCode)}</td><td>{categoryLabel[i.category]}</td><td class="num">{i.quantity}</td><td class="num">{i.traceCodes?.length ?? 0}</td><td class="num">{yuan(i.amountFen)}</td></tr>
          ))}</tbody>
        </table>
        <Split s={s} />
        <Untraced s={s} />
      </div>
      <div class="buttons no-print">
        {s.prescriptionId && !reversed && (dispense.isSuccess ? <Dispensed rx={dispense.data} /> : used ? (
          <Alert kind="ok">已按此结算为处方 {shortId(s.prescriptionId)} 发药</Alert>
        ) : (
          <button type="button" class="primary" disabled={dispense.isPending || !rx.data} onClick={() => dispense.mutate()}>按此结算发药</button>
        ))}
        {!reversed && !dispense.isSuccess && !used && sameDay && (
          <button type="button" class="danger" disabled={reverse.isPending || dispense.isPending}
            onClick={() => confirm(`冲正结算 ${shortId(s.settlementId)}（${yuan(s.totalFen)}）？款项退回原渠道，追溯码可再次销售。`) && reverse.mutate()}>冲正</button>
        )}
      </div>
      {reverse.isSuccess && <Alert kind="ok">已冲正：统筹、个人账户{s.mutualAidFen > 0 ? '与家庭共济' : ''}的支付已退回，现金 {yuan(s.cashFen)} 请退还患者；本单追溯码可再次销售。</Alert>}
      {/* Reopened after its reversal: the cash went back then, not again now. */}
      {reversed && !reverse.isSuccess && <Alert kind="info">已于 {dateTime(s.reversedAt ?? s.settledAt)} 冲正，款项已退回。</Alert>}
      {dispense.isError && <Alert kind="error">{problemText(dispense.error)}</Alert>}
      {reverse.isError && <Alert kind="error">{problemText(reverse.error)}</Alert>}
    </section>
  );
}

function Dispensed({ rx }: { rx: Prescription }) {
  return <Alert kind="ok">{dispensedText(rx, useDrugName())}</Alert>;
}

/** What a dispense did, in words: all handed over, or what is still owed and kept for the patient. */
export function dispensedText(rx: Prescription, name: (drugCode: string) => string): string {
  if (rx.status !== 'partially-dispensed') return `处方 ${shortId(rx.prescriptionId)} 已发药`;
  return `处方 ${shortId(rx.prescriptionId)} 部分发药：尚欠 ${owingOf(rx).map((i) => `${name(i.drugCode)} ×${i.quantity}`).join('、')}，已为患者保留；到货后在“处方”中通知取药。`;
}
