// 个人账户划入: a file of amounts the fund credits to people's personal accounts (the year's credit),
// checked first (csv.ts), then sent in batches of 500 under one batch id (POST
// /personal-account-credits). The batch id makes the run safe to send again, whole or in part:
// nobody is credited twice by one batch. An enrolment cannot do this for anyone who has settled. The
// run is kept above the screen (runs.tsx), as 参保登记's is.
import { useRef, useState } from 'preact/hooks';
import { creditBatchId } from '#schemas/institutions';
import { call, outcomeUnknown } from '../../lib/api.ts';
import { yuan } from '../../lib/format.ts';
import { translate } from '../../lib/forms.ts';
import { problemText } from '../../lib/labels.ts';
import { Alert, announce, Field, focusWhenShown, Title } from '../../shared/ui.tsx';
import { columnLabel, readCredits, type Parsed, type RowError } from './csv.ts';
import { guardLeaving, keptRun, RowErrors, rowsIn } from './runs.tsx';

const BATCH = 500;

type Row = Parsed['people'][number];
const sum = (rows: readonly Row[]) => rows.reduce((t, r) => t + Number(r.person.amountFen), 0);

interface Result {
  batchId: string;
  credited: number;
  alreadyCredited: number;
  /** What the rows credited now or before add up to. */
  totalFen: number;
  refused: RowError[];
  /** Rows of the file held back by its check, never sent. */
  held: number;
  /** Rows of batches with no answer (they may have been credited): sending them again is safe. */
  lost: Row[];
}

interface CreditState {
  batchId: string;
  fileName?: string;
  /** The file's check, or why it could not be read. */
  parsed?: Parsed | string;
  progress?: { done: number; total: number };
  result?: Result;
}

/** Kept above the screen (runs.tsx): another screen and back shows the run's progress and result. */
const credits = keptRun<CreditState>({ batchId: '' });
const update = credits.update;

/** Sends `rows` under the batch id; what it learns is added to `before` (a run sent again). */
async function run(id: string, rows: Row[], held: number, before?: Result): Promise<void> {
  const r: Result = before ? { ...before, lost: [] } : { batchId: id, credited: 0, alreadyCredited: 0, totalFen: 0, refused: [], held, lost: [] };
  update({ running: true, result: undefined, progress: { done: 0, total: rows.length } });
  try {
    await guardLeaving(async () => {
      for (let start = 0; start < rows.length; start += BATCH) {
        const batch = rows.slice(start, start + BATCH);
        try {
          const res = await call('creditPersonalAccounts', { body: { batchId: id, credits: batch.map((b) => b.person) } });
          r.credited += res.credited;
          r.alreadyCredited += res.alreadyCredited;
          r.totalFen += sum(batch.filter((_, i) => res.personIds[i]));
          for (const rej of res.rejected) {
            for (const e of rej.errors) {
              const field = e.path.split('.').pop() ?? '';
              r.refused.push({ row: batch[rej.index]!.row, field: columnLabel[field] ?? field, message: translate(field, e) });
            }
          }
        } catch (e) {
          // No answer: the batch may have been credited. Sent again under the same batch id, nobody is credited twice.
          if (outcomeUnknown(e)) r.lost.push(...batch);
          else for (const b of batch) r.refused.push({ row: b.row, field: '', message: problemText(e) });
        }
        update({ progress: { done: Math.min(start + BATCH, rows.length), total: rows.length } });
      }
    });
  } finally {
    r.refused.sort((a, b) => a.row - b.row);
    update({ running: false, result: r });
  }
  announce(`划入完成：${summary(r)}`);
}

export function Credits() {
  const s = credits.use();
  const { batchId, fileName, parsed, progress, running, result } = s;
  const [batchError, setBatchError] = useState<string>();
  const batchField = useRef<HTMLInputElement>(null);

  const pick = async (file: File) => update({ fileName: file.name, result: undefined, progress: undefined, parsed: readCredits(await file.text()) });

  const send = (rows: Row[], held: number, before?: Result) => {
    const id = (before?.batchId ?? batchId).trim();
    if (!creditBatchId.safeParse(id).success) {
      setBatchError('请填写批次号：字母、数字或 _ . : -，最多 64 个字符，如 2027年度划入');
      batchField.current?.focus();
      return;
    }
    setBatchError(undefined);
    if (!confirm(`按批次 ${id} 向 ${rows.length} 人划入合计 ${yuan(sum(rows))}？同一批次每人只划入一次，重复提交不会重复划入。`)) return;
    focusWhenShown(() => document.getElementById('credit-progress'));
    void run(id, rows, held, before);
  };

  const file = typeof parsed === 'object' ? parsed : undefined;
  return (
    <section>
      <Title>个人账户划入</Title>
      <p class="muted">按批次向参保人个人账户划入金额（如年度划入），在现有余额上增加，不覆盖。上传 CSV 文件（UTF-8），首行为表头：身份证号,划入金额（元）。同一批次号下每人只划入一次：同一文件重复提交不会重复划入。</p>
      <Field label="批次号" error={batchError} hint="如 2027年度划入；重新提交同一文件时请用同一批次号">{(id, d) => (
        <input id={id} ref={batchField} value={batchId} disabled={running} aria-invalid={batchError ? 'true' : undefined} aria-describedby={d} onInput={(e) => { update({ batchId: e.currentTarget.value }); setBatchError(undefined); }} />
      )}</Field>
      <Field label="CSV 文件" hint={fileName ? `当前文件：${fileName}` : undefined}>{(id, d) => <input id={id} type="file" accept=".csv,text/csv" disabled={running} aria-describedby={d} onChange={(e) => { const f = e.currentTarget.files?.[0]; e.currentTarget.value = ''; if (f) void pick(f); }} />}</Field>
      {typeof parsed === 'string' && <Alert kind="error">{parsed}</Alert>}
      {file && !result && !running && <>
        <Alert kind={file.errors.length ? 'info' : 'ok'} said={file}>共 {file.people.length + rowsIn(file.errors)} 行：可提交 {file.people.length} 人，合计 {yuan(sum(file.people))}{file.errors.length ? `；${rowsIn(file.errors)} 行有误，不提交` : ''}</Alert>
        <RowErrors errors={file.errors} caption="有误的行（不提交）" />
        <button type="button" class="primary" disabled={!file.people.length} onClick={() => send(file.people, rowsIn(file.errors))}>提交划入（{file.people.length} 人）</button>
      </>}
      {progress && <p id="credit-progress" tabIndex={-1}><label>进度 <progress max={progress.total} value={progress.done}>{progress.done}/{progress.total}</progress></label> {progress.done} / {progress.total}</p>}
      {running && <p class="muted">正在分批提交，请勿关闭或刷新本页；可以先去其他页面，回到个人账户划入可查看进度与结果。</p>}
      {result && <>
        <Alert kind={result.refused.length || result.lost.length ? 'info' : 'ok'}>{summary(result)}</Alert>
        <RowErrors errors={[...(file?.errors ?? []), ...result.refused].sort((a, b) => a.row - b.row)} caption="未划入的行" />
        {result.lost.length > 0 && <>
          <p class="alert error">{result.lost.length} 人未收到平台的回答，可能已划入：请用同一批次号重新提交，不会重复划入。</p>
          <button type="button" class="primary" onClick={() => send(result.lost, result.held, result)}>重新提交（{result.lost.length} 人）</button>
        </>}
      </>}
    </section>
  );
}

/**
 * The result in one sentence. The amount covers everyone the batch has credited, now or before (the
 * API does not say which of them were new): with some before, it says so, lest it read as paid twice.
 */
function summary(r: Result): string {
  const rest = [r.refused.length ? `平台拒绝 ${rowsIn(r.refused)} 行` : '', r.held ? `文件有误未提交 ${r.held} 行` : '', r.lost.length ? `结果未知 ${r.lost.length} 人` : '']
    .filter(Boolean).join('，');
  return `批次 ${r.batchId}：新划入 ${r.credited} 人，此前已划入 ${r.alreadyCredited} 人（未重复划入），${r.alreadyCredited ? '两者金额' : ''}合计 ${yuan(r.totalFen)}${rest ? `；${rest}` : ''}`;
}
