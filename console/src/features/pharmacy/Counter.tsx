// The pharmacy counter: scan or paste the patient's voucher code, list what is sold, check, confirm
// (确认结算), print the receipt. One Idempotency-Key per attempt: a double click or a retry of the
// same attempt can never charge twice. The split is the API's; the console only shows it.
// A pre-settlement quote (issue #11) slots in at the review step (QuoteSlot).
import { useMutation, useQuery, useQueryClient } from '@tanstack/preact-query';
import { useEffect, useRef, useState } from 'preact/hooks';
import { settlementRequest, type Settlement } from '#schemas/vouchers';
import { call, newIdempotencyKey, type ApiError } from '../../lib/api.ts';
import { currentSession } from '../../lib/auth.ts';
import { takeDraft, useDraft } from '../../lib/drafts.ts';
import { dateTime, parseYuan, shortId, yuan } from '../../lib/format.ts';
import { problemToFields, validate, type FieldErrors } from '../../lib/forms.ts';
import { categoryLabel, problemText } from '../../lib/labels.ts';
import { useDrugName, useDrugs, useInstitutionName } from '../../shared/names.ts';
import { Alert, Field, FormError, Money, Title } from '../../shared/ui.tsx';
import { go } from '../../app/router.ts';

interface Line {
  drugCode: string;
  quantity: string;
  price: string;
}
const emptyLine = (): Line => ({ drugCode: '', quantity: '1', price: '' });

type Step = { kind: 'entry' } | { kind: 'review'; idempotencyKey: string } | { kind: 'done'; settlement: Settlement };

export function Counter({ prescriptionId }: { prescriptionId?: string }) {
  const draft = takeDraft<{ lines: Line[]; prescriptionId?: string }>('pharmacy-counter');
  const [code, setCode] = useState('');
  const [rxId, setRxId] = useState(prescriptionId ?? draft?.prescriptionId ?? '');
  const [lines, setLines] = useState<Line[]>(draft?.lines ?? [emptyLine()]);
  const [step, setStep] = useState<Step>({ kind: 'entry' });
  const [errors, setErrors] = useState<FieldErrors>({});
  useDraft('pharmacy-counter', { lines, prescriptionId: rxId || undefined });
  const drugs = useDrugs();
  const qc = useQueryClient();
  const codeRef = useRef<HTMLTextAreaElement>(null);

  const rx = useQuery({ queryKey: ['prescription', rxId], queryFn: () => call('getPrescription', { params: { id: rxId } }), enabled: !!rxId });
  // A prescription chosen: its drugs and quantities fill the list (prices are the pharmacy's).
  useEffect(() => {
    if (rx.data && lines.every((l) => !l.drugCode)) setLines(rx.data.items.map((i) => ({ drugCode: i.drugCode, quantity: String(i.quantity), price: '' })));
  }, [rx.data]);
  useEffect(() => codeRef.current?.focus(), [step.kind === 'entry']);

  const body = () => ({
    code: code.trim(),
    ...(rxId ? { prescriptionId: rxId } : {}),
    items: lines.map((l) => ({ drugCode: l.drugCode, quantity: Number(l.quantity), unitPriceFen: parseYuan(l.price) ?? -1 })),
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
    // One key for this attempt: every click and retry of it sends the same key.
    setStep({ kind: 'review', idempotencyKey: newIdempotencyKey('counter') });
  };

  const settle = useMutation({
    mutationFn: (key: string) => call('settle', { body: body(), idempotencyKey: key }),
    onSuccess: (settlement) => {
      setStep({ kind: 'done', settlement });
      void qc.invalidateQueries({ queryKey: ['settlements'] });
    },
    onError: (err: ApiError) => {
      const fields = problemToFields(err);
      // A refused code or item goes back to the entry form, next to the field; a network failure stays here to retry with the same key.
      if (err.status !== 0 && err.slug !== 'service-unavailable') {
        if (err.slug === 'code-already-used' || err.slug === 'code-expired') fields.code = problemText(err);
        setErrors(fields);
        setStep({ kind: 'entry' });
      } else setErrors(fields);
    },
  });

  const next = () => {
    setCode('');
    setRxId('');
    setLines([emptyLine()]);
    setErrors({});
    settle.reset();
    setStep({ kind: 'entry' });
    if (prescriptionId) go('pharmacy');
  };

  if (step.kind === 'done') return <Receipt settlement={step.settlement} onNext={next} />;

  const totalFen = lines.reduce((n, l) => n + (parseYuan(l.price) ?? 0) * (Number.isInteger(Number(l.quantity)) ? Number(l.quantity) : 0), 0);

  if (step.kind === 'review') {
    return (
      <section>
        <Title>核对结算</Title>
        <ItemsTable lines={lines} />
        <p class="total">合计 <Money fen={totalFen} strong /></p>
        <QuoteSlot />
        <FormError errors={errors} />
        <div class="buttons">
          <button type="button" class="primary big" disabled={settle.isPending} onClick={() => settle.mutate(step.idempotencyKey)}>
            {settle.isPending ? '正在结算…' : '确认结算'}
          </button>
          <button type="button" disabled={settle.isPending} onClick={() => setStep({ kind: 'entry' })}>返回修改</button>
        </div>
      </section>
    );
  }

  return (
    <form onSubmit={review} novalidate>
      <Title>医保结算</Title>
      <FormError errors={errors} />
      <div class="row">
        <Field label="医保电子凭证码" hint="扫码枪扫描患者二维码，或粘贴码值" error={errors.code} wide>
          {(id, d) => <textarea id={id} ref={codeRef} rows={2} class="mono" value={code} aria-describedby={d} aria-invalid={!!errors.code} onInput={(e) => setCode(e.currentTarget.value)} />}
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
        <datalist id="drug-list">{(drugs.data ?? []).map((d) => <option key={d.drugCode} value={d.drugCode}>{d.name}（{categoryLabel[d.category]}）</option>)}</datalist>
        {lines.map((l, i) => (
          <LineFields key={i} index={i} line={l} errors={errors}
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

function LineFields(props: { index: number; line: Line; errors: FieldErrors; onChange: (l: Line) => void; onRemove?: () => void }) {
  const { index: i, line, errors } = props;
  const name = useDrugName();
  return (
    <div class="row line" role="group" aria-label={`第 ${i + 1} 行药品`}>
      <Field label="药品编码" error={errors[`items.${i}.drugCode`]} hint={line.drugCode ? name(line.drugCode) : undefined}>
        {(id, d) => <input id={id} list="drug-list" class="mono" value={line.drugCode} aria-describedby={d} autocomplete="off" onInput={(e) => props.onChange({ ...line, drugCode: e.currentTarget.value.trim().toUpperCase() })} />}
      </Field>
      <Field label="数量" error={errors[`items.${i}.quantity`]}>
        {(id, d) => <input id={id} type="number" min={1} step={1} inputMode="numeric" value={line.quantity} aria-describedby={d} onInput={(e) => props.onChange({ ...line, quantity: e.currentTarget.value })} />}
      </Field>
      <Field label="单价（元）" error={errors[`items.${i}.unitPriceFen`]}>
        {(id, d) => <input id={id} inputMode="decimal" value={line.price} placeholder="0.00" aria-describedby={d} onInput={(e) => props.onChange({ ...line, price: e.currentTarget.value })} />}
      </Field>
      {props.onRemove && <button type="button" class="link" onClick={props.onRemove}>删除第 {i + 1} 行</button>}
    </div>
  );
}

function ItemsTable({ lines }: { lines: Line[] }) {
  const name = useDrugName();
  return (
    <table>
      <caption class="sr-only">结算药品</caption>
      <thead><tr><th scope="col">药品</th><th scope="col" class="num">数量</th><th scope="col" class="num">单价</th><th scope="col" class="num">金额</th></tr></thead>
      <tbody>
        {lines.map((l, i) => {
          const price = parseYuan(l.price) ?? 0;
          return <tr key={i}><td>{name(l.drugCode)}</td><td class="num">{l.quantity}</td><td class="num">{yuan(price)}</td><td class="num">{yuan(price * Number(l.quantity))}</td></tr>;
        })}
      </tbody>
    </table>
  );
}

/** Where the pre-settlement quote (POST /settlements/quote, issue #11) will show the split before confirming. */
function QuoteSlot() {
  return <p class="muted small">确认后显示医保统筹、个人账户与现金的分摊。</p>;
}

export function Receipt({ settlement: s, onNext }: { settlement: Settlement; onNext: () => void }) {
  const pharmacy = useInstitutionName(currentSession()?.institutionId);
  const name = useDrugName();
  const qc = useQueryClient();
  const dispense = useMutation({
    mutationFn: () => call('dispensePrescription', { params: { id: s.prescriptionId! }, body: { settlementId: s.settlementId } }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['prescriptions'] }),
  });
  return (
    <section>
      <Title actions={<>
        <button type="button" onClick={() => print()}>打印小票</button>
        <button type="button" class="primary" onClick={onNext}>下一位患者</button>
      </>}>结算成功</Title>
      <div class="receipt" aria-label="结算小票" role="region">
        <h2>{pharmacy} · 医保结算单</h2>
        <p class="muted">结算号 {shortId(s.settlementId)} · {dateTime(s.settledAt)}</p>
        <table>
          <thead><tr><th scope="col">药品</th><th scope="col">类别</th><th scope="col" class="num">数量</th><th scope="col" class="num">金额</th></tr></thead>
          <tbody>{s.items.map((i) => <tr key={i.drugCode}><td>{name(i.drugCode)}</td><td>{categoryLabel[i.category]}</td><td class="num">{i.quantity}</td><td class="num">{yuan(i.amountFen)}</td></tr>)}</tbody>
        </table>
        <dl class="split">
          <dt>费用总额</dt><dd><Money fen={s.totalFen} /></dd>
          <dt>医保统筹支付</dt><dd><Money fen={s.pooledFundFen} /></dd>
          <dt>个人账户支付</dt><dd><Money fen={s.personalAccountFen} /></dd>
          <dt class="pay">现金支付</dt><dd class="pay"><Money fen={s.cashFen} strong /></dd>
        </dl>
        {s.deductibleAppliedFen > 0 && <p class="small muted">其中计入起付线 {yuan(s.deductibleAppliedFen)}</p>}
      </div>
      {s.prescriptionId && (
        <div class="buttons no-print">
          {dispense.isSuccess ? <Alert kind="ok">处方 {shortId(s.prescriptionId)} 已发药</Alert> : (
            <button type="button" class="primary" disabled={dispense.isPending} onClick={() => dispense.mutate()}>按此结算发药</button>
          )}
          {dispense.isError && <Alert kind="error">{problemText(dispense.error)}</Alert>}
        </div>
      )}
    </section>
  );
}
