// The hospital's advice and guidance: the questions clinics asked its departments, oldest deadline
// first, and the answer with a recommendation (manage locally, or refer). The answer names the
// version on screen (If-Match): a request the clinic withdrew meanwhile is refused, and said so.
import { useQueries, useQuery, useQueryClient } from '@tanstack/preact-query';
import { useRef, useState } from 'preact/hooks';
import { listAsLeft, useHashParam, useListAsLeft } from '../../app/router.ts';
import { adviceReplyBody, adviceStatuses, recommendations, type AdviceStatus, type AdviceView } from '#schemas/advice';
import { call, etagOf, type ApiError } from '../../lib/api.ts';
import { useDraft, useSavedDraft } from '../../lib/drafts.ts';
import { dateTime, shortId } from '../../lib/format.ts';
import { problemToFields, validate, type FieldErrors } from '../../lib/forms.ts';
import { adviceStatusLabel, problemText, recommendationLabel } from '../../lib/labels.ts';
import { useMutation } from '../../lib/mutation.ts';
import { poll } from '../../lib/polling.ts';
import { AdviceExchange, AdviceFacts, AdviceHistory, useAdvice } from '../../shared/advice.tsx';
import { useInstitutionName } from '../../shared/names.ts';
import { useDepartmentName, usePatientLabel } from '../../shared/referral.tsx';
import { Alert, announce, CopyButton, CountTabs, Empty, Field, focusWhenShown, FormError, kept, Loading, Notice, RefreshFailed, Scroll, tabCount, Title } from '../../shared/ui.tsx';

const listOf = (status: AdviceStatus) => ({
  queryKey: ['advice-list', 'incoming', status],
  queryFn: () => call('listAdviceRequests', { query: { box: 'incoming', status, limit: 200 } }),
  refetchInterval: poll(15_000),
});

/** Open ones by deadline (the sweep re-routes what is not answered in time), the rest newest first. */
const order = (a: AdviceView, b: AdviceView) => (a.status === 'open' ? (a.slaDueAt ?? '').localeCompare(b.slaDueAt ?? '') : b.updatedAt.localeCompare(a.updatedAt));

export function IncomingAdvice() {
  // In the address: Back from a question (or F5) finds the tab left.
  const [status, setStatus] = useHashParam<AdviceStatus>('status', 'open', (v): v is AdviceStatus => (adviceStatuses as readonly string[]).includes(v));
  useListAsLeft('#/hospital/advice');
  const counts = useQueries({ queries: adviceStatuses.map(listOf) });
  const list = useQuery(listOf(status));
  const items = kept(list)?.items;
  const count = (i: number) => tabCount(counts[i]);
  return (
    <section>
      <Title>会诊咨询</Title>
      <CountTabs label="咨询状态" current={status} onSelect={setStatus} items={adviceStatuses.map((s, i) => ({ key: s, label: adviceStatusLabel[s], count: count(i) }))} />
      <RefreshFailed q={list} />
      {list.isPending ? <Loading what="咨询" /> : !items ? <Alert kind="error">{problemText(list.error)}</Alert> : items.length === 0 ? <Empty>没有{adviceStatusLabel[status]}的咨询</Empty> : (
        <Scroll label={`${adviceStatusLabel[status]}的咨询`}><table>
          <caption class="sr-only">{adviceStatusLabel[status]}的咨询</caption>
          <thead><tr><th scope="col">患者</th><th scope="col">科室</th><th scope="col">发起机构</th><th scope="col">问题</th><th scope="col">{status === 'open' ? '答复时限' : '更新时间'}</th></tr></thead>
          <tbody>{[...items].sort(order).map((a) => <Row key={a.adviceId} a={a} />)}</tbody>
        </table></Scroll>
      )}
    </section>
  );
}

function Row({ a }: { a: AdviceView }) {
  const from = useInstitutionName(a.fromInstitutionId);
  const dept = useDepartmentName(a.toInstitutionId, a.department);
  const patient = usePatientLabel(a.personId, a.patient);
  return (
    <tr>
      <td><a href={`#/hospital/advice/${a.adviceId}`}>{patient}</a></td>
      <td>{dept}</td><td>{from}</td>
      <td>{a.question.length > 40 ? `${a.question.slice(0, 40)}…` : a.question}</td>
      <td>{dateTime(a.status === 'open' ? a.slaDueAt : a.updatedAt)}</td>
    </tr>
  );
}

export function IncomingAdviceDetail({ id }: { id: string }) {
  const q = useAdvice(id);
  // Held here: a refused answer reloads the request, and the form may be gone with it (withdrawn).
  const [notice, setNotice] = useState<string>();
  // An answer refused because the request moved meanwhile: a specialist's text is not thrown away.
  const [unsent, setUnsent] = useState<string>();
  // What is being written, held here rather than in the form: the form goes when the request is
  // gone from this hospital, or while a read of it fails, and comes back with it. Starts from a draft
  // kept across a reload or an expired session (lib/drafts.ts), read here so the gone view has it too.
  const draft = useSavedDraft<ReplyDraft>(`reply-${id}`);
  const writing = useRef<ReplyDraft>({ answer: draft?.answer ?? '', recommendation: draft?.recommendation ?? '' });
  if (q.isPending) return <Loading what="咨询" />;
  const a = kept(q);
  if (!a) {
    // Not answered in time, the platform sent it to another hospital: no longer this one's to read.
    // Said, with the way back, and what was being written is still there to copy.
    if ((q.error as ApiError).status !== 404) return <Alert kind="error">{problemText(q.error)}</Alert>;
    const text = unsent ?? writing.current.answer;
    return (
      <section>
        <Title actions={<a href={listAsLeft('#/hospital/advice')}>返回咨询列表</a>}>咨询 {shortId(id)}</Title>
        <Alert kind="error" focus>本院已无法查看该咨询：它可能已超过答复时限，由平台改派至其他医院。</Alert>
        {text && <UnsentAnswer text={text} why="该咨询已不在本院，" />}
      </section>
    );
  }
  return (
    <section>
      <Title actions={<a href={listAsLeft('#/hospital/advice')}>返回咨询列表</a>}>咨询 {shortId(a.adviceId)}</Title>
      <Notice text={notice} onDismiss={() => setNotice(undefined)} focus />
      <RefreshFailed q={q} />
      <AdviceFacts a={a} />
      <AdviceExchange a={a} />
      {a.allowedActions.includes('reply') ? (
        <Reply key={a.version} a={a} writing={writing} onStale={(n, text) => { setNotice(n || undefined); setUnsent(text || undefined); }} />
      ) : unsent && <UnsentAnswer text={unsent} why={whyUnsent(a)} />}
      <AdviceHistory a={a} />
    </section>
  );
}

/** Why an answer could not be given any more, by what the request became meanwhile. */
function whyUnsent(a: AdviceView): string {
  if (a.status === 'answered') return '本院其他医生已答复该咨询，';
  if (a.status === 'converted') return '该咨询已转为转诊，';
  if (a.status === 'closed' && a.closedReason === 'withdrawn') return '社区已撤回该咨询，';
  return '该咨询已关闭，';
}

/** The answer the API refused, to copy: the request moved on (withdrawn, answered, converted, sent elsewhere) while it was written. */
function UnsentAnswer({ text, why }: { text: string; why: string }) {
  return (
    <section class="panel" aria-labelledby="unsent-title">
      <h2 id="unsent-title">未送达的答复</h2>
      <p>{why}以下答复没有送达。如仍需告知，可复制后另行联系社区。</p>
      <textarea id="unsent-text" class="copy-text" readOnly rows={5} value={text} aria-labelledby="unsent-title" />
      <p><CopyButton text={text} label="复制答复" shown={() => document.getElementById('unsent-text')} /></p>
    </section>
  );
}

type ReplyDraft = { answer: string; recommendation: (typeof recommendations)[number] | '' };

function Reply({ a, writing, onStale }: { a: AdviceView; writing: { current: ReplyDraft }; onStale: (notice: string, unsent: string) => void }) {
  const qc = useQueryClient();
  // A specialist's answer can be long: kept across a reload or an expired session (lib/drafts.ts).
  // One sent twice is refused by its If-Match, so a reply in flight may come back too.
  const [answer, setAnswerState] = useState(writing.current.answer);
  const [recommendation, setRecommendationState] = useState(writing.current.recommendation);
  // Written through at each keystroke (not in an effect after paint): the last one counts too.
  const setAnswer = (v: string) => { writing.current = { ...writing.current, answer: v }; setAnswerState(v); };
  const setRecommendation = (v: ReplyDraft['recommendation']) => { writing.current = { ...writing.current, recommendation: v }; setRecommendationState(v); };
  useDraft(`reply-${a.adviceId}`, { answer, recommendation });
  const [errors, setErrors] = useState<FieldErrors>({});
  const reply = useMutation({
    mutationFn: () => call('replyAdviceRequest', { params: { id: a.adviceId }, ifMatch: etagOf(a), body: { answer, recommendation: recommendation as (typeof recommendations)[number] } }),
    onSuccess: (next) => {
      // Sent: never offered again as 未送达.
      writing.current = { answer: '', recommendation: '' };
      qc.setQueryData(['advice', a.adviceId], next);
      void qc.invalidateQueries({ queryKey: ['advice-list'] });
      // The form goes once answered: said, and the keyboard goes to the answer as it now shows.
      announce('答复已提交');
      focusWhenShown(() => document.getElementById('answer-title'));
    },
    onError: (e: ApiError) => {
      // 404: sent to another hospital meanwhile (the detail then says so, with the text to copy).
      if (e.status === 412 || e.status === 409 || e.status === 404) {
        onStale(e.status === 404 ? '' : problemText(e), answer);
        void qc.invalidateQueries({ queryKey: ['advice', a.adviceId] });
        void qc.invalidateQueries({ queryKey: ['advice-list'] });
        return;
      }
      setErrors(problemToFields(e));
    },
  });
  const submit = (e: Event) => {
    e.preventDefault();
    const v = validate(adviceReplyBody, { answer, recommendation: recommendation || undefined });
    if (!v.ok) {
      setErrors(v.errors);
      // The radios are no Field, whose refusal would take the keyboard to them: taken here.
      const form = e.currentTarget as HTMLFormElement;
      if (v.errors.recommendation) focusWhenShown(() => form.querySelector<HTMLElement>('input[name="recommendation"][aria-invalid="true"]'));
      return;
    }
    setErrors({});
    reply.mutate();
  };
  return (
    <form class="actions-panel" onSubmit={submit} novalidate aria-labelledby="reply-title">
      <h2 id="reply-title">答复</h2>
      <FormError errors={errors} />
      <fieldset class="inline">
        <legend>处理建议</legend>
        {recommendations.map((r) => (
          <label key={r} class="radio">
            <input type="radio" name="recommendation" value={r} checked={recommendation === r} aria-invalid={!!errors.recommendation}
              aria-describedby={errors.recommendation ? 'recommendation-error' : undefined} onChange={() => setRecommendation(r)} /> {recommendationLabel[r]}
          </label>
        ))}
      </fieldset>
      {errors.recommendation && <p id="recommendation-error" class="alert error" role="alert">请选择处理建议</p>}
      <Field label="答复意见" error={errors.answer} wide>{(id, d) => <textarea id={id} rows={5} value={answer} aria-describedby={d} onInput={(e) => setAnswer(e.currentTarget.value)} />}</Field>
      <button type="submit" class="primary" aria-disabled={reply.isPending}>提交答复</button>
    </form>
  );
}
