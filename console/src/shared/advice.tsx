// One advice request as either side sees it: the facts, the question and the answer, its history.
// The clinic and hospital desks each add the moves that are theirs (the API's allowedActions).
import { useQuery } from '@tanstack/preact-query';
import type { AdviceView } from '#schemas/advice';
import { call } from '../lib/api.ts';
import { dateTime, shortId } from '../lib/format.ts';
import { adviceStatusLabel, closedReasonLabel, recommendationLabel } from '../lib/labels.ts';
import { poll } from '../lib/polling.ts';
import { useInstitutionName } from './names.ts';
import { useDepartmentName, usePatientLabel } from './referral.tsx';
import { Badge } from './ui.tsx';

/** Badge tones by status, as for referrals and prescriptions (styles.css): the timeline shows them side by side. */
const adviceTone = (status: AdviceView['status']) => `status-${status}`;

export const useAdvice = (id: string) =>
  useQuery({ queryKey: ['advice', id], queryFn: () => call('getAdviceRequest', { params: { id } }), refetchInterval: poll(15_000) });

export function AdviceStatusBadge({ a }: { a: Pick<AdviceView, 'status' | 'closedReason'> }) {
  return (
    <Badge tone={adviceTone(a.status)}>
      {adviceStatusLabel[a.status]}{a.closedReason ? `（${closedReasonLabel[a.closedReason]}）` : ''}
    </Badge>
  );
}

export function AdviceFacts({ a }: { a: AdviceView }) {
  const from = useInstitutionName(a.fromInstitutionId);
  const to = useInstitutionName(a.toInstitutionId);
  const dept = useDepartmentName(a.toInstitutionId, a.department);
  const patient = usePatientLabel(a.personId, a.patient);
  return (
    <dl class="facts">
      <dt>咨询单号</dt><dd>{shortId(a.adviceId)}</dd>
      <dt>患者</dt><dd>{patient}</dd>
      <dt>状态</dt><dd><AdviceStatusBadge a={a} /></dd>
      <dt>发起机构</dt><dd>{from}</dd>
      <dt>咨询医院</dt><dd>{to}</dd>
      <dt>科室</dt><dd>{dept}</dd>
      {a.diagnoses?.length ? (<><dt>初步诊断</dt><dd>{a.diagnoses.join('、')}</dd></>) : null}
      <dt>提问时间</dt><dd>{dateTime(a.createdAt)}</dd>
      {a.status === 'open' && a.slaDueAt && (<><dt>答复时限</dt><dd>{dateTime(a.slaDueAt)}</dd></>)}
    </dl>
  );
}

/** The question, and the answer once there is one. */
export function AdviceExchange({ a }: { a: AdviceView }) {
  const to = useInstitutionName(a.toInstitutionId);
  return (
    <>
      <section aria-labelledby="question-title" class="card">
        <h2 id="question-title">咨询问题</h2>
        <p class="pre">{a.question}</p>
      </section>
      {a.answer && a.recommendation && (
        <section aria-labelledby="answer-title" class="card answer">
          <h2 id="answer-title" tabIndex={-1}>专家答复 <Badge tone={a.recommendation === 'refer' ? 'warn' : 'ok'}>{recommendationLabel[a.recommendation]}</Badge></h2>
          <p class="pre">{a.answer}</p>
          <p class="muted small">{to} · {dateTime(a.answeredAt)}</p>
        </section>
      )}
    </>
  );
}

function HistoryRow({ h }: { h: AdviceView['history'][number] }) {
  const by = useInstitutionName(h.by);
  const to = useInstitutionName(h.toInstitutionId);
  return (
    <li>
      <time>{dateTime(h.at)}</time> <Badge tone={adviceTone(h.status)}>{adviceStatusLabel[h.status]}</Badge> {by}
      {h.toInstitutionId && h.status === 'open' && <> → {to}</>}
    </li>
  );
}

export function AdviceHistory({ a }: { a: AdviceView }) {
  return (
    <section aria-labelledby="advice-history-title">
      <h2 id="advice-history-title">流转记录</h2>
      <ol class="history">{a.history.map((h, i) => <HistoryRow key={i} h={h} />)}</ol>
    </section>
  );
}
