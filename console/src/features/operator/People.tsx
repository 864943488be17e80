// Complaint handling: find a person by national ID, then their timeline (what happened) and their
// access log (who read or changed their records, and when). The operator's own reads here are in
// that access log too, as every read by someone other than the person is. The export (a copy of
// everything held) is the person's alone (API.md: pid only): the screen says where they get it.
import { useInfiniteQuery, useQueryClient } from '@tanstack/preact-query';
import { useState } from 'preact/hooks';
import type { PersonSummary } from '#schemas/institutions';
import type { TimelineEntry } from '#schemas/people';
import { call, type ApiError } from '../../lib/api.ts';
import { dateTimeSeconds, shortId } from '../../lib/format.ts';
import { idTyped, noIdYet, problemToFields, type FieldErrors } from '../../lib/forms.ts';
import { useMutation } from '../../lib/mutation.ts';
import {
  accessActionLabel, adviceStatusLabel, prescriptionStatusLabel, problemText, referralStatusLabel, roleLabel, settlementStatusLabel, timelineKindLabel,
} from '../../lib/labels.ts';
import { useInstitutionName } from '../../shared/names.ts';
import { Alert, announce, Badge, Empty, Field, focusWhenShown, kept, Loading, Money, RefreshFailed, Scroll, Title } from '../../shared/ui.tsx';
import { accessRuns, type AccessRun } from './access.ts';

export function PersonRecords() {
  const [nationalId, setNationalId] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [found, setFound] = useState<PersonSummary>();
  const qc = useQueryClient();
  const lookup = useMutation({
    mutationFn: () => call('lookupPerson', { body: { nationalId } }),
    onSuccess: (p) => {
      setFound(p);
      setNationalId('');
      setErrors({});
      announce(`已查到：${p.name}`);
      // Asking again reads again (the records are kept until then: see readWhenAsked).
      void qc.invalidateQueries({ queryKey: ['timeline', p.personId] });
      void qc.invalidateQueries({ queryKey: ['access-log', p.personId] });
    },
    onError: (e: ApiError) => { setFound(undefined); setErrors(problemToFields(e)); },
  });
  return (
    <section>
      <Title>个人记录</Title>
      <p class="muted">处理投诉或查询时使用：查看此人的就医与结算记录，以及谁在何时查看或修改了其记录。本页的查询本身也会记入其访问记录。</p>
      <form class="row" onSubmit={(e) => { e.preventDefault(); const blank = noIdYet(nationalId); setErrors(blank ?? {}); if (!blank) lookup.mutate(); }}>
        <Field label="身份证号" error={errors.nationalId ?? errors['']} narrow>
          {(id, d) => <input id={id} class="mono" autocomplete="off" value={nationalId} aria-describedby={d} onInput={(e) => setNationalId(idTyped(e.currentTarget.value))} />}
        </Field>
        <div class="field submit"><span class="label" aria-hidden="true">&nbsp;</span><button type="submit" class="primary" aria-disabled={lookup.isPending}>查询</button></div>
      </form>
      {found && (
        <>
          <div class="card person" role="region" aria-label="查询对象">
            <p><strong class="big-text">{found.name}</strong> <span class="mono">{found.nationalIdMasked}</span> · {found.district}</p>
          </div>
          <p class="alert info" role="note">
            个人数据副本（参保信息、凭证、结算、转诊、处方、咨询、短信与访问记录）只能由本人在其医保渠道应用中实名认证后导出（《个人信息保护法》第四十五条）；平台运营方不能代为导出。
          </p>
          <Timeline personId={found.personId} />
          <AccessLog personId={found.personId} />
        </>
      )}
    </section>
  );
}

const PAGE = 50;
/** Every read here is itself a logged access to the person's records: read when the operator asks, never by polling or on focus. */
const readWhenAsked = { refetchOnWindowFocus: false, refetchOnReconnect: false, staleTime: Infinity } as const;

/**
 * 加载更多 of a list read in pages. Busy, it keeps the keyboard (aria-disabled, not disabled); once
 * the last page is read it goes, and the keyboard to the list's heading (`titleId`), said.
 */
function MorePages({ q, label, titleId }: { q: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => Promise<{ hasNextPage: boolean }> }; label: string; titleId: string }) {
  const more = async () => {
    if (q.isFetchingNextPage) return;
    if ((await q.fetchNextPage()).hasNextPage) return;
    focusWhenShown(() => document.getElementById(titleId));
    announce('已加载全部记录');
  };
  return q.hasNextPage ? <button type="button" aria-disabled={q.isFetchingNextPage} onClick={() => void more()}>{label}</button> : null;
}

/**
 * A page that failed after others were read (加载更多, 刷新访问记录): the rows read stay, and
 * what failed is said above them. A record being looked into is not taken off the screen by a blip.
 */
function ReadFailed({ q, then }: { q: { data: unknown; error: unknown; dataUpdatedAt: number; isFetchNextPageError: boolean }; then: string }) {
  if (q.isFetchNextPageError && kept(q)) return <Alert kind="error">更多记录未能读取（{problemText(q.error)}），以下为已读取的记录；可再次加载。</Alert>;
  return <RefreshFailed q={q} then={then} />;
}

function Timeline({ personId }: { personId: string }) {
  const q = useInfiniteQuery({
    queryKey: ['timeline', personId],
    queryFn: ({ pageParam }) => call('getTimeline', { params: { personId }, query: { limit: PAGE, nextToken: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextToken,
    ...readWhenAsked,
  });
  const items = kept(q)?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title" tabIndex={-1}>就医与结算记录</h2>
      <ReadFailed q={q} then="可再次查询" />
      {q.isPending ? <Loading /> : !kept(q) ? <Alert kind="error">{problemText(q.error)}</Alert> : items.length === 0 ? <Empty>暂无记录</Empty> : (
        <Scroll label="就医与结算记录"><table>
          <caption class="sr-only">就医与结算记录，最新在前</caption>
          <thead><tr><th scope="col">时间</th><th scope="col">类型</th><th scope="col">编号</th><th scope="col">状态</th><th scope="col">金额</th><th scope="col">机构</th><th scope="col">最近更新</th></tr></thead>
          <tbody>{items.map((e) => <TimelineRow key={e.id} e={e} />)}</tbody>
        </table></Scroll>
      )}
      <MorePages q={q} label="加载更多记录" titleId="timeline-title" />
    </section>
  );
}

function statusText(e: TimelineEntry): string {
  const labels: Record<TimelineEntry['kind'], Record<string, string>> = {
    referral: referralStatusLabel, prescription: prescriptionStatusLabel, settlement: settlementStatusLabel, advice: adviceStatusLabel,
  };
  return labels[e.kind][e.status] ?? e.status;
}

function TimelineRow({ e }: { e: TimelineEntry }) {
  const inst = useInstitutionName(e.institutionId);
  return (
    <tr>
      {/* To the second: a complaint of being charged twice is two settlements a few seconds apart. */}
      <td>{dateTimeSeconds(e.at)}</td><td>{timelineKindLabel[e.kind]}{e.beneficiaryPersonId && <> <Badge>家庭共济·为亲属支付</Badge></>}</td><td class="mono">{shortId(e.id)}</td>
      <td><Badge tone={`status-${e.status}`}>{statusText(e)}</Badge></td><td class="num">{e.amountFen !== undefined ? <Money fen={e.amountFen} /> : '—'}</td><td>{inst}</td><td>{dateTimeSeconds(e.updatedAt)}</td>
    </tr>
  );
}

function AccessLog({ personId }: { personId: string }) {
  const q = useInfiniteQuery({
    queryKey: ['access-log', personId],
    queryFn: ({ pageParam }) => call('getAccessLog', { params: { personId }, query: { limit: PAGE, nextToken: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextToken,
    ...readWhenAsked,
  });
  const items = kept(q)?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="access-title">
      <div class="section-head">
        <h2 id="access-title" tabIndex={-1}>访问记录</h2>
        {/* Busy, it keeps the keyboard: a disabled button would drop it to the page. */}
        <button type="button" aria-disabled={q.isFetching} onClick={() => !q.isFetching && void q.refetch()}>刷新访问记录</button>
      </div>
      <p class="muted small">除本人外，谁在何时查看或修改了此人的记录（请求后数秒内记入，保留六个月以上）。登录账号是省统一身份认证平台的用户标识：具体是谁，请凭账号向该机构或身份认证平台核实。</p>
      <ReadFailed q={q} then="可再次刷新" />
      {q.isPending ? <Loading /> : !kept(q) ? <Alert kind="error">{problemText(q.error)}</Alert> : items.length === 0 ? <Empty>暂无访问记录</Empty> : (
        <Scroll label="访问记录"><table>
          <caption class="sr-only">访问记录，最新在前</caption>
          <thead><tr><th scope="col">时间</th><th scope="col">访问者</th><th scope="col">登录账号</th><th scope="col">操作</th><th scope="col">记录</th></tr></thead>
          <tbody>{accessRuns(items).map((run, i) => <AccessRows key={`${run[0]!.requestId}-${i}`} run={run} />)}</tbody>
        </table></Scroll>
      )}
      <MorePages q={q} label="加载更多访问记录" titleId="access-title" />
    </section>
  );
}

const recordKinds: Record<string, string> = {
  referrals: '转诊', prescriptions: '处方', settlements: '医保结算', vouchers: '医保电子凭证', 'advice-requests': '会诊咨询', enrollments: '参保信息',
};
const peopleRoutes: Record<string, string> = { timeline: '就医与结算记录', 'access-log': '访问记录', export: '个人数据导出' };
/** What a request made under one of the person's records: a payment QR code for their voucher. */
const madeUnder: Record<string, string> = { codes: '付款码' };

/** "/referrals/ref_…" → "转诊 ECTD2Z", as the other tables name records; the path itself on hover. */
function resourceLabel(resource: string): string {
  const record = /^\/([a-z-]+)\/([^/]+)$/.exec(resource);
  if (record && recordKinds[record[1]!]) return `${recordKinds[record[1]!]} ${shortId(record[2]!)}`;
  const under = /^\/([a-z-]+)\/([^/]+)\/([a-z-]+)$/.exec(resource);
  if (under && recordKinds[under[1]!] && madeUnder[under[3]!]) return `${recordKinds[under[1]!]} ${shortId(under[2]!)} 的${madeUnder[under[3]!]}`;
  const own = /^\/people\/[^/]+\/([a-z-]+)$/.exec(resource);
  return (own && peopleRoutes[own[1]!]) ?? resource;
}

/** One run of the same act (access.ts): one row with its count and first time, each time on request. */
function AccessRows({ run }: { run: AccessRun }) {
  const e = run[0]!;
  const inst = useInstitutionName(e.actor.institutionId);
  const [open, setOpen] = useState(false);
  const times = run.length;
  return (
    <>
      <tr>
        <td class="nowrap">
          {dateTimeSeconds(e.at)}
          {times > 1 && <><br /><small class="muted">起 {dateTimeSeconds(run.at(-1)!.at)}</small></>}
        </td>
        <td>{e.actor.institutionId ? inst : roleLabel[e.actor.role]}</td>
        <td class="mono">{e.actor.user}</td>
        <td>
          <Badge tone={e.action === 'write' ? 'warn' : ''}>{accessActionLabel[e.action]}</Badge>
          {times > 1 && <> <button type="button" class="link" aria-expanded={open} onClick={() => setOpen(!open)}>共 {times} 次</button></>}
        </td>
        <td title={e.resource}>{resourceLabel(e.resource)}</td>
      </tr>
      {open && run.map((x) => (
        <tr key={x.requestId} class="sub"><td class="nowrap muted">{dateTimeSeconds(x.at)}</td><td colSpan={4} class="muted small">请求号 <span class="mono">{x.requestId}</span></td></tr>
      ))}
    </>
  );
}
