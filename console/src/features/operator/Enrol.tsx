// 参保登记: a CSV file checked first (csv.ts), then sent in batches of 500. The import is kept above
// the screen (runs.tsx): another screen and back shows its progress and result.
import { ApiError, call, outcomeUnknown } from '../../lib/api.ts';
import { calendarDay } from '../../lib/format.ts';
import { translate } from '../../lib/forms.ts';
import { problemText } from '../../lib/labels.ts';
import { Alert, announce, Field, focusWhenShown, Title } from '../../shared/ui.tsx';
import { columnLabel, failedRowsCsv, readPeople, type Parsed, type RowError } from './csv.ts';
import { guardLeaving, keptRun, RowErrors, rowsIn } from './runs.tsx';

const BATCH = 500;

type Person = Parsed['people'][number];

/**
 * Why a row is not enrolled: never sent (the file's check, or the import stopped), refused by the
 * API, or sent with no answer that says what happened (`outcomeUnknown`: the API may have enrolled
 * it, so it is never called "not sent").
 */
type Outcome = 'unsent' | 'refused' | 'unknown';
const outcomeLabel: Record<Outcome, string> = { unsent: '未提交', refused: '平台拒绝', unknown: '结果未知（可能已登记）' };

interface Failure extends RowError { outcome: Outcome }
/** A batch that failed whole (no word on each row): said once, with its rows. */
interface BatchNote { first: number; last: number; count: number; outcome: Outcome; reason: string }
interface Result {
  enrolled: number;
  updated: number;
  failures: Failure[];
  notes: BatchNote[];
  /** The rows of the batches that failed whole, to send again: the API said nothing of each. */
  retry: Person[];
  /**
   * Of `updated`, those sent again after an answer was lost: the API finds them enrolled, most
   * likely by that first attempt, so they are new to the province, not updated.
   */
  updatedOnRetry: number;
}

interface EnrolState {
  file?: { name: string; text: string };
  parsed?: Parsed;
  fatal?: string;
  /** `again`: a 重新提交, whose total is the rows sent again, not the file's. */
  progress?: { done: number; total: number; again: boolean };
  result?: Result;
}

const enrolment = keptRun<EnrolState>({});
const update = enrolment.update;

/** A batch refused whole, in Chinese: what the API said, where the generic label would point at fields that are not there. */
function batchRefusal(e: unknown): string {
  if (e instanceof ApiError) {
    if (/not valid UTF-8/.test(e.problem.detail ?? '')) return `文件不是 UTF-8 编码（可能是 GBK），请在 Excel/WPS 中另存为“CSV UTF-8”后重新上传`;
    if (e.status === 413) return '本批数据超过平台允许的大小，请检查是否有异常长的单元格，或将文件拆分后重新上传';
    if (e.slug === 'validation-failed') return `平台拒收本批：数据格式不符合要求（${e.status}）`;
    if (e.status === 401) return '登录已失效，请重新登录后再提交';
  }
  return problemText(e);
}

const rowsOf = (failures: Failure[], outcome?: Outcome) => new Set(failures.filter((f) => !outcome || f.outcome === outcome).map((f) => f.row)).size;

/** The result in one sentence, counting rows (a batch of 500 that failed is 500 rows, not one). */
function summary(r: Result): string {
  const parts = (['refused', 'unknown', 'unsent'] as const).map((o) => [o, rowsOf(r.failures, o)] as const).filter(([, n]) => n > 0)
    .map(([o, n]) => (o === 'unknown' ? `结果未知 ${n} 行（可能已登记）` : `${outcomeLabel[o]} ${n} 行`));
  const onRetry = r.updatedOnRetry ? `（其中 ${r.updatedOnRetry} 人是结果未知后重新提交的，多为上次已新登记）` : '';
  return `新登记 ${r.enrolled} 人，更新 ${r.updated} 人${onRetry}${parts.length ? `；未登记 ${rowsOf(r.failures)} 行：${parts.join('，')}` : ''}`;
}

/**
 * Sends `people`; what it learns is added to `before` (an earlier run's rows not sent again).
 * `lost` (a retry): rows sent before whose answer was lost, so found enrolled means enrolled then.
 */
async function run(people: Person[], before: Result, lost?: ReadonlySet<number>): Promise<void> {
  const r: Result = { ...before, failures: [...before.failures], notes: [...before.notes], retry: [] };
  const failWhole = (batch: Person[], outcome: Outcome, reason: string) => {
    r.notes.push({ first: batch[0]!.row, last: batch.at(-1)!.row, count: batch.length, outcome, reason });
    for (const b of batch) r.failures.push({ row: b.row, field: '', message: reason, outcome });
    r.retry.push(...batch);
  };
  const again = lost !== undefined;
  update({ running: true, parsed: undefined, result: undefined, progress: { done: 0, total: people.length, again } });
  try {
    await guardLeaving(async () => {
      for (let start = 0; start < people.length; start += BATCH) {
        const batch = people.slice(start, start + BATCH);
        try {
          const res = await call('enrol', { body: { people: batch.map((b) => b.person) } });
          r.enrolled += res.enrolled;
          r.updated += res.updated;
          // A batch of a retry holds only rows sent before; those of a lost answer found enrolled count here.
          if (lost && batch.every((b) => lost.has(b.row))) r.updatedOnRetry += res.updated;
          for (const rej of res.rejected) {
            for (const e of rej.errors) {
              const field = e.path.split('.').pop() ?? '';
              r.failures.push({ row: batch[rej.index]!.row, field: columnLabel[field] ?? field, message: translate(field, e), outcome: 'refused' });
            }
          }
        } catch (e) {
          const unknown = outcomeUnknown(e);
          // Not "could not connect": the request may have arrived and the people been enrolled.
          failWhole(batch, unknown ? 'unknown' : 'refused', unknown ? `未收到平台的回答（${problemText(e)}）：可能已登记，可重新提交，不会重复登记` : batchRefusal(e));
          // The session is over: every batch after would be refused the same. Never sent, not "refused".
          if (e instanceof ApiError && e.status === 401) {
            const rest = people.slice(start + BATCH);
            if (rest.length) failWhole(rest, 'unsent', '登录已失效，未提交');
            break;
          }
        }
        update({ progress: { done: Math.min(start + BATCH, people.length), total: people.length, again } });
      }
    });
  } finally {
    r.failures.sort((a, b) => a.row - b.row);
    update({ running: false, result: r });
  }
  announce(`登记完成：${summary(r)}`);
}

/** A row's reason in the file of failed rows: what happened, the column, why. */
const reasonText = (f: Failure) => [outcomeLabel[f.outcome], f.field && !f.message.startsWith(f.field) ? f.field : '', f.message].filter(Boolean).join('：');

function download(r: Result, text: string) {
  const reasons = new Map<number, string>();
  for (const f of r.failures) reasons.set(f.row, [reasons.get(f.row), reasonText(f)].filter(Boolean).join('；'));
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([failedRowsCsv(text, reasons)], { type: 'text/csv;charset=utf-8' }));
  // ASCII: some browsers drop a Chinese file name, and the file is then saved without .csv.
  a.download = `enrolment-failed-rows-${calendarDay()}.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function Enrol() {
  const s = enrolment.use();
  const pick = async (file: File) => {
    const text = await file.text();
    const p = readPeople(text);
    update({ file: { name: file.name, text }, result: undefined, progress: undefined, fatal: typeof p === 'string' ? p : undefined, parsed: typeof p === 'string' ? undefined : p });
  };
  // The button pressed goes with what it sent: the keyboard goes to the progress, and the result is said there.
  const toProgress = () => focusWhenShown(() => document.getElementById('enrol-progress'));
  const send = ({ people, errors }: Parsed) => {
    toProgress();
    void run(people, { enrolled: 0, updated: 0, updatedOnRetry: 0, failures: errors.map((e) => ({ ...e, outcome: 'unsent' })), notes: [], retry: [] });
  };
  const retry = (r: Result) => {
    toProgress();
    const again = new Set(r.retry.map((p) => p.row));
    const lost = new Set(r.failures.filter((f) => f.outcome === 'unknown').map((f) => f.row));
    void run(r.retry, { ...r, failures: r.failures.filter((f) => !again.has(f.row)), notes: [], retry: [] }, lost);
  };
  const r = s.result;
  return (
    <section>
      <Title>参保登记</Title>
      <p class="muted">上传 CSV 文件（UTF-8），首行为表头：身份证号,姓名,手机号,区县,个人账户余额（元）（本年统筹已用（元）可选）。核对后提交，每 500 人一批。</p>
      <Field label="CSV 文件" hint={s.file ? `当前文件：${s.file.name}` : undefined}>{(id, d) => <input id={id} type="file" accept=".csv,text/csv" disabled={s.running} aria-describedby={d} onChange={(e) => { const f = e.currentTarget.files?.[0]; e.currentTarget.value = ''; if (f) void pick(f); }} />}</Field>
      {s.fatal && <Alert kind="error">{s.fatal}</Alert>}
      {s.parsed && <>
        <Alert kind={s.parsed.errors.length ? 'info' : 'ok'} said={s.parsed}>共 {s.parsed.people.length + rowsIn(s.parsed.errors)} 行：可提交 {s.parsed.people.length} 人{s.parsed.errors.length ? `，${rowsIn(s.parsed.errors)} 行有误，不提交` : ''}</Alert>
        <RowErrors errors={s.parsed.errors} caption="有误的行（不提交）" />
        <button type="button" class="primary" disabled={!s.parsed.people.length} onClick={() => send(s.parsed!)}>提交登记（{s.parsed.people.length} 人）</button>
      </>}
      {s.progress && (
        <p id="enrol-progress" tabIndex={-1}><label>{s.progress.again ? '重新提交进度' : '进度'} <progress max={s.progress.total} value={s.progress.done}>{s.progress.done}/{s.progress.total}</progress></label> {s.progress.done} / {s.progress.total}{s.progress.again && ' 人'}</p>
      )}
      {s.running && <p class="muted">正在分批提交，请勿关闭或刷新本页；可以先去其他页面，回到参保登记可查看进度与结果。</p>}
      {r && <>
        <Alert kind={r.failures.length ? 'info' : 'ok'}>{summary(r)}</Alert>
        {r.notes.map((n, i) => (
          <p key={i} class="alert error">第 {n.first}–{n.last} 行中的 {n.count} 人{outcomeLabel[n.outcome]}：{n.reason}</p>
        ))}
        {r.failures.length > 0 && (
          <table>
            <caption>未登记的行</caption>
            <thead><tr><th scope="col" class="num">行号</th><th scope="col">结果</th><th scope="col">字段</th><th scope="col">原因</th></tr></thead>
            <tbody>{r.failures.map((f, i) => <tr key={i}><td class="num">{f.row}</td><td>{outcomeLabel[f.outcome]}</td><td>{f.field}</td><td>{f.message}</td></tr>)}</tbody>
          </table>
        )}
        {r.retry.length > 0 && <p class="muted small">重新提交只发送整批失败或结果未知的 {r.retry.length} 人：已登记的人再次提交不会重复登记，登记后余额已因结算改变的人不会被文件覆盖。平台逐行拒绝的行，请在下载的文件中改正后重新上传。</p>}
        {r.failures.length > 0 && (
          <div class="buttons">
            {r.retry.length > 0 && <button type="button" class="primary" onClick={() => retry(r)}>重新提交（{r.retry.length} 人）</button>}
            {s.file && <button type="button" onClick={() => download(r, s.file!.text)}>下载未登记的行（CSV）</button>}
          </div>
        )}
      </>}
    </section>
  );
}
