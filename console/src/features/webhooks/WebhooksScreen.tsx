// 系统对接: an institution's IT staff subscribe their own system (HIS, POS) to events about their
// institution's referrals, prescriptions and settlements (signed webhooks), keep the signing secret
// shown once (or change it, when lost or leaked), delete a subscription, and see each one's recent
// deliveries with their attempts.
// Clinic, hospital and pharmacy desks alike, each offered the events that can reach it; the API
// keeps every institution to its own.
import { useQuery, useQueryClient } from '@tanstack/preact-query';
import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { webhookEventNamesFor } from '#events/audience';
import type { InstitutionType } from '#schemas/institutions';
import { webhookInput, type DeliveryStatus, type Webhook, type WebhookDelivery } from '#schemas/webhooks';
import { call, type ApiError } from '../../lib/api.ts';
import { dateTime, dateTimeSeconds, shortId } from '../../lib/format.ts';
import { problemToFields, validate, type FieldErrors } from '../../lib/forms.ts';
import { problemText, webhookEventLabel } from '../../lib/labels.ts';
import { useMutation } from '../../lib/mutation.ts';
import { poll } from '../../lib/polling.ts';
import { Alert, announce, Badge, CopyButton, Empty, Field, focusTitle, FormError, kept, Loading, RefreshFailed, Scroll, Title } from '../../shared/ui.tsx';
import { attemptText } from './attempts.ts';

const labelOf = (name: string) => webhookEventLabel[name] ?? name;
/** In the order of each flow (the label table's), events without a label last. */
const lifecycle = Object.keys(webhookEventLabel);
const rank = (n: string) => (lifecycle.includes(n) ? lifecycle.indexOf(n) : lifecycle.length);

const groups = [
  { label: '转诊', test: (n: string) => n.startsWith('Referral') },
  { label: '会诊咨询', test: (n: string) => n.startsWith('Advice') },
  { label: '处方', test: (n: string) => n.startsWith('Prescription') },
  { label: '药店库存', test: (n: string) => n.startsWith('Pharmacy') },
  { label: '医保结算', test: (n: string) => n.startsWith('Settlement') || n.startsWith('TraceCode') },
];
/** The events that can reach this kind of institution, by flow: a pharmacy is offered no referral events. */
function offeredTo(role: InstitutionType) {
  const names = webhookEventNamesFor(role).sort((a, b) => rank(a) - rank(b));
  return [
    ...groups.map((g) => ({ label: g.label, names: names.filter(g.test) })),
    { label: '其他', names: names.filter((n) => !groups.some((g) => g.test(n))) },
  ].filter((g) => g.names.length);
}

const statusLabel: Record<DeliveryStatus, string> = { pending: '待推送', retrying: '重试中', delivered: '已送达', failed: '已失败' };
const statusTone: Record<DeliveryStatus, string> = { pending: 'status-submitted', retrying: 'warn', delivered: 'ok', failed: 'danger' };

/**
 * What a delivery was about, by the id its message carried, linked where this desk has a page for
 * it (a referral's or a question's detail; a pharmacy's receipt).
 */
function subjectOf(d: WebhookDelivery, role: InstitutionType): { text: string; href?: string } | undefined {
  const id = (key: string) => d.data?.[key];
  if (d.type.startsWith('Referral') && id('referralId')) return { text: `转诊 ${shortId(id('referralId')!)}`, href: role === 'pharmacy' ? undefined : `#/${role}/referrals/${id('referralId')}` };
  if (d.type.startsWith('Settlement') && id('settlementId')) return { text: `结算 ${shortId(id('settlementId')!)}`, href: role === 'pharmacy' ? `#/pharmacy/settlements/${encodeURIComponent(id('settlementId')!)}` : undefined };
  if (d.type.startsWith('Advice') && id('adviceId')) return { text: `咨询 ${shortId(id('adviceId')!)}`, href: role === 'pharmacy' ? undefined : `#/${role}/advice/${id('adviceId')}` };
  if (d.type.startsWith('Prescription') && id('prescriptionId')) return { text: `处方 ${shortId(id('prescriptionId')!)}` };
  if (d.type === 'PharmacyStockChanged') return { text: '本店库存' };
  return undefined;
}

/** A signing secret to save now: a new subscription's, or a changed one's (with when the old stops signing). */
type Secret = { webhookId: string; url: string; secret: string; previousSecretExpiresAt?: string };

export function WebhooksScreen({ role }: { role: InstitutionType }) {
  const offered = offeredTo(role);
  const list = useQuery({ queryKey: ['webhooks'], queryFn: () => call('listWebhooks', { query: { limit: 50 } }) });
  const items = kept(list)?.items ?? [];
  const [shown, setShown] = useState<string>();
  // Each stays until its 我已保存: a second subscription added (or secret changed) before the first
  // secret was saved does not take that one off the screen. Newest first; one per subscription.
  const [secrets, setSecrets] = useState<Secret[]>([]);
  const keep = (s: Secret) => setSecrets((all) => [s, ...all.filter((o) => o.webhookId !== s.webhookId)]);
  const saved = (webhookId: string) => setSecrets((all) => all.filter((o) => o.webhookId !== webhookId));
  const qc = useQueryClient();
  // What became of the last 更换密钥 or 删除 that failed; one action's failure goes with the next
  // action. It takes the keyboard: the row pressed on may be gone with the list read again.
  const [failed, setFailed] = useState<{ text: string; n: number }>();
  const failedOn = (e: ApiError, w: Webhook) => {
    const n = (failed?.n ?? 0) + 1;
    // Deleted meanwhile (another tab, a colleague): said so, and the list read again without it.
    if (e.status === 404) {
      saved(w.webhookId);
      void qc.invalidateQueries({ queryKey: ['webhooks'] });
      setFailed({ text: `该订阅已不存在（可能已由他人删除）：${w.url}`, n });
    } else setFailed({ text: problemText(e), n });
  };
  const change = useMutation({
    mutationFn: (w: Webhook) => call('rotateWebhookSecret', { params: { webhookId: w.webhookId } }),
    onMutate: () => setFailed(undefined),
    onSuccess: (w) => {
      keep({ webhookId: w.webhookId, url: w.url, secret: w.secret, previousSecretExpiresAt: w.previousSecretExpiresAt });
      void qc.invalidateQueries({ queryKey: ['webhooks'] });
    },
    onError: failedOn,
  });
  const remove = useMutation({
    mutationFn: (w: Webhook) => call('deleteWebhook', { params: { webhookId: w.webhookId } }),
    onMutate: () => setFailed(undefined),
    onSuccess: (_r, { webhookId }) => {
      if (shown === webhookId) setShown(undefined);
      saved(webhookId);
      void qc.invalidateQueries({ queryKey: ['webhooks'] });
      announce('已删除订阅');
      // Its row (and 删除) goes once the list is read again: the keyboard goes to the title first.
      focusTitle();
    },
    onError: failedOn,
  });
  // Focused when a secret appears (at the top, maybe out of view): the keyboard and the eye go to
  // what must be saved now. Once per secret, not at each render (a list refetch, a click below), nor
  // when an older one comes to the top (the newer saved or deleted).
  const newest = useRef<HTMLDivElement>(null);
  const focusedOnce = useRef(new Set<string>());
  useEffect(() => {
    const top = secrets[0]?.secret;
    if (top && !focusedOnce.current.has(top)) newest.current?.focus();
    for (const s of secrets) focusedOnce.current.add(s.secret);
  }, [secrets[0]?.secret]);
  return (
    <section>
      <Title>系统对接（事件推送）</Title>
      <p class="muted">本机构的业务系统（HIS、药店 POS 等）可订阅与本机构相关的{offered.map((g) => g.label).join('、')}事件。平台按 Standard Webhooks 规范签名后推送到接收地址，失败时按退避策略重试。</p>
      {secrets.map((s, i) => <SecretPanel key={s.webhookId} s={s} panelRef={i === 0 ? newest : undefined} onSaved={() => { saved(s.webhookId); focusTitle(); }} />)}
      {failed && <Alert key={failed.n} kind="error" focus>{failed.text}</Alert>}
      <RefreshFailed q={list} then="回到本页时将再次读取" />
      {list.isPending ? <Loading /> : !kept(list) ? <Alert kind="error">{problemText(list.error)}</Alert> : items.length === 0 ? <Empty>尚未订阅任何事件推送</Empty> : (
        <Scroll label="事件推送订阅"><table>
          <caption class="sr-only">事件推送订阅</caption>
          <thead><tr><th scope="col">接收地址</th><th scope="col">订阅事件</th><th scope="col">添加时间</th><th scope="col"><span class="sr-only">操作</span></th></tr></thead>
          <tbody>{items.map((w: Webhook) => (
            <tr key={w.webhookId}>
              <td class="mono small url">{w.url}</td>
              <td>{w.events.map(labelOf).join('、')}</td>
              <td>{dateTime(w.createdAt)}{w.previousSecretExpiresAt && <><br /><small class="muted">已更换密钥，旧密钥签名至 {dateTime(w.previousSecretExpiresAt)}</small></>}</td>
              {/* Each button names its subscription for a screen reader: rows of one system differ only by address. */}
              <td class="actions">
                <button type="button" class="link" aria-expanded={shown === w.webhookId} onClick={() => setShown(shown === w.webhookId ? undefined : w.webhookId)}>推送记录<span class="sr-only"> {w.url}</span></button>
                <button type="button" class="link" aria-disabled={change.isPending}
                  onClick={() => !change.isPending && confirm(`为 ${w.url} 更换签名密钥？新密钥只显示一次；此后 24 小时内每条推送同时带新、旧两个签名，请在此期间将接收系统改用新密钥。`) && change.mutate(w)}>更换密钥<span class="sr-only"> {w.url}</span></button>
                <button type="button" class="link danger" aria-disabled={remove.isPending} onClick={() => !remove.isPending && confirm(`删除推送订阅 ${w.url}？删除后不再推送，排队中的重试也会取消。`) && remove.mutate(w)}>删除<span class="sr-only"> {w.url}</span></button>
              </td>
            </tr>
          ))}</tbody>
        </table></Scroll>
      )}
      {shown && <Deliveries key={shown} role={role} webhook={items.find((w) => w.webhookId === shown)} />}
      <AddWebhook offered={offered} onCreated={keep} />
    </section>
  );
}

/** One secret, shown this once, with the subscription it signs for. */
function SecretPanel({ s, panelRef, onSaved }: { s: Secret; panelRef?: RefObject<HTMLDivElement>; onSaved: () => void }) {
  const codeId = `secret-${s.webhookId}`;
  return (
    <div class="panel secret" role="status" aria-label={`签名密钥：${s.url}`} tabIndex={-1} ref={panelRef}>
      <h2>{s.previousSecretExpiresAt ? '新的签名密钥' : '签名密钥'}（仅显示这一次）</h2>
      <p>订阅 <span class="mono">{s.url}</span></p>
      <p>请立即保存到接收系统，用于校验推送签名。关闭或离开本页后无法再次查看；如遗失，可为该订阅更换密钥。</p>
      {s.previousSecretExpiresAt && <p>{dateTime(s.previousSecretExpiresAt)} 前，每条推送同时带新、旧两个密钥的签名，接收系统用任一密钥都能校验；请在此之前改用新密钥。</p>}
      <p><code id={codeId} class="mono">{s.secret}</code></p>
      <div class="buttons">
        <CopyButton text={s.secret} label="复制密钥" shown={() => document.getElementById(codeId)} />
        <button type="button" class="primary" onClick={onSaved}>我已保存</button>
      </div>
    </div>
  );
}

function Deliveries({ webhook, role }: { webhook: Webhook | undefined; role: InstitutionType }) {
  const q = useQuery({
    queryKey: ['webhook-deliveries', webhook?.webhookId],
    queryFn: () => call('listWebhookDeliveries', { params: { webhookId: webhook!.webhookId }, query: { limit: 50 } }),
    enabled: !!webhook,
    refetchInterval: poll(10_000),
  });
  if (!webhook) return null;
  const data = kept(q);
  return (
    <div class="panel">
      <h2>推送记录 <span class="muted small mono">{webhook.url}</span></h2>
      <RefreshFailed q={q} />
      {q.isPending ? <Loading what="推送记录" /> : !data ? <Alert kind="error">{problemText(q.error)}</Alert> : data.items.length === 0 ? <Empty>还没有推送</Empty> : (
        <Scroll label="最近的推送"><table>
          <caption class="sr-only">最近的推送</caption>
          <thead><tr><th scope="col">事件</th><th scope="col">对象</th><th scope="col">发生时间</th><th scope="col">状态</th><th scope="col" class="num">尝试次数</th><th scope="col">最近一次结果</th><th scope="col">下次重试</th><th scope="col">消息 ID（webhook-id）</th></tr></thead>
          <tbody>{data.items.map((d) => {
            const last = d.attempts.at(-1);
            const subject = subjectOf(d, role);
            return (
              <tr key={d.deliveryId}>
                <td class="nowrap">{labelOf(d.type)}</td>
                <td>{subject?.href ? <a href={subject.href}>{subject.text}</a> : (subject?.text ?? '—')}</td>
                <td class="nowrap">{dateTime(d.occurredAt)}</td>
                <td><Badge tone={statusTone[d.status]}>{statusLabel[d.status]}</Badge></td>
                <td class="num">{d.attempts.length}</td>
                {/* To the second: retries come seconds apart at first. */}
                <td>{last ? `${attemptText(last)} · ${dateTimeSeconds(last.at)}` : '—'}</td>
                <td>{d.status === 'retrying' && d.nextAttemptAt ? dateTimeSeconds(d.nextAttemptAt) : '—'}</td>
                <td class="mono small break">{d.deliveryId}</td>
              </tr>
            );
          })}</tbody>
        </table></Scroll>
      )}
    </div>
  );
}

function AddWebhook({ offered, onCreated }: { offered: ReturnType<typeof offeredTo>; onCreated: (s: Secret) => void }) {
  const qc = useQueryClient();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>([]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation({
    mutationFn: () => call('createWebhook', { body: { url: url.trim(), events: events as never } }),
    onSuccess: (w) => {
      onCreated({ webhookId: w.webhookId, url: w.url, secret: w.secret });
      setUrl('');
      setEvents([]);
      setErrors({});
      void qc.invalidateQueries({ queryKey: ['webhooks'] });
    },
    onError: (e: ApiError) => setErrors(problemToFields(e)),
  });
  const toggle = (name: string, on: boolean) => setEvents(on ? [...events, name] : events.filter((e) => e !== name));
  const submit = (e: Event) => {
    e.preventDefault();
    const v = validate(webhookInput, { url: url.trim(), events });
    if (!v.ok) return setErrors(v.errors);
    setErrors({});
    create.mutate();
  };
  return (
    <form class="panel" onSubmit={submit} novalidate>
      <h2>添加订阅</h2>
      <FormError errors={errors} />
      <Field label="接收地址" wide error={errors.url} hint="本机构业务系统接收推送的 https:// 地址">
        {(id, d) => <input id={id} type="url" class="mono" placeholder="https://his.example.cn/hooks/consortium" value={url} aria-describedby={d} onInput={(e) => setUrl(e.currentTarget.value)} />}
      </Field>
      {offered.map((g) => (
        <fieldset key={g.label} class="inline" aria-describedby={errors.events ? 'events-error' : undefined}>
          <legend>{g.label}</legend>
          {g.names.map((n) => (
            <label key={n} class="checkbox"><input type="checkbox" checked={events.includes(n)} onChange={(e) => toggle(n, e.currentTarget.checked)} /> {labelOf(n)}</label>
          ))}
        </fieldset>
      ))}
      {errors.events && <p id="events-error" class="alert error" role="alert">请至少选择一个事件</p>}
      <button type="submit" class="primary" aria-disabled={create.isPending}>添加订阅</button>
    </form>
  );
}
