// Forms validate with the API's own zod schemas; problem+json `errors[].path` from the API (such
// as body.items.0.drugCode) lands on the same field names. Messages are shown in Chinese.
import { useRef } from 'preact/hooks';
import type * as z from 'zod';
import { ApiError } from './api.ts';
import { shortId, yuan } from './format.ts';
import { problemText } from './labels.ts';

/** Field path ("items.0.drugCode") → message. "" holds errors that belong to no field. */
export type FieldErrors = Record<string, string>;

/**
 * What a field must hold, by its path without indices ("departments.code"), where its last segment
 * alone would mislead: a department's code is not the voucher code, an institution's name not a
 * person's.
 */
const pathHints: Record<string, string> = {
  'departments.code': '科室编码：字母、数字、“-”或“_”，最多32位',
  'departments.name': '请填写科室名称',
  'people.name': '请填写姓名',
};

/** What a field must hold, by its last path segment, where a general message would not help. */
const fieldHints: Record<string, string> = {
  nationalId: '身份证号无效：应为18位，地区码与出生日期真实，校验位正确',
  drugCode: '药品编码无效',
  diagnoses: '诊断须为 ICD-10 编码，例如 I10、E11.9',
  appointmentAt: '预约时间无效',
  code: '医保电子凭证码无效：请重新扫码',
  quantity: '数量须为正整数',
  unitPriceFen: '单价无效',
  department: '请选择科室',
  reason: '请填写原因',
  followUpPlan: '请填写随访计划',
  id: '机构编码：字母、数字、“-”或“_”，2–64位',
  dailyCapacity: '日接诊量须为非负整数',
  personalAccountFen: '个人账户余额无效',
  url: '须为可从公网访问的 https:// 地址，不得指向内网、本机或云元数据地址',
  traceCodes: '追溯码无效：20 位数字，以 8 开头',
  supplyDays: '用药天数：1–84 天',
  assessment: '请填写病情评估',
  phone: '手机号无效：11位，以1开头',
  name: '请填写名称',
  beneficiaryName: '请填写姓名',
  district: '区县无效',
  annualPooledUsedFen: '本年统筹已用金额无效',
};

/** A field problem (ours or the API's) in Chinese. */
export function translate(path: string, issue: { code?: string; message: string }): string {
  const named = path.split('.').filter((p) => !/^\d+$/.test(p));
  const last = named.at(-1) ?? '';
  const hint = pathHints[named.join('.')] ?? fieldHints[last];
  if (issue.message === 'Required' || /received undefined/.test(issue.message)) return '必填';
  if (/[\u4e00-\u9fff]/.test(issue.message)) return issue.message;
  // Over a bound: the bound says more than what the field is for (101 packs is a whole number).
  const most = /^Too big: expected (number|string|array) to (?:be|have) <=(\d+)/.exec(issue.message);
  if (most) return most[1] === 'number' ? `不能大于 ${last.endsWith('Fen') ? yuan(Number(most[2])) : most[2]}` : most[1] === 'string' ? `最多 ${most[2]} 个字` : `最多 ${most[2]} 项`;
  const limit = /^total above (\d+) fen$/.exec(issue.message) ?? /totals at most (\d+) fen/.exec(issue.message);
  if (limit) return `单笔结算不能超过 ${yuan(Number(limit[1]))}，请分开结算`;
  if (last === 'url') {
    if (/does not resolve|did not resolve/.test(issue.message)) return '域名无法解析，请检查地址';
    if (/user name or password/.test(issue.message)) return '地址中不能包含用户名或密码';
    if (/not a URL/.test(issue.message)) return '地址格式无效';
  }
  if (last === 'appointmentAt') {
    if (/is in the past/.test(issue.message)) return '预约时间已过，请选择之后的时间';
    if (/more than 180 days ahead/.test(issue.message)) return '预约时间不能超过 180 天之后';
  }
  if (last === 'traceCodes') {
    if (/listed twice/.test(issue.message)) return '同一追溯码重复扫描';
    if (/one trace code per pack/.test(issue.message)) return '追溯码多于数量：每盒一码';
    if (/already sold/.test(issue.message)) return '该追溯码已被销售';
  }
  const traced = /at most (\d+) packs with trace codes/.exec(issue.message);
  if (traced) return `一次结算最多 ${traced[1]} 盒扫码药品，请分开结算`;
  if (/listed twice/.test(issue.message)) return '同一药品不能重复开具';
  if (/may not be on a long prescription/.test(issue.message)) return '该药品不可开具长期处方（如抗菌药物）';
  if (/must consent/.test(issue.message)) return '长期处方须经患者知情同意';
  if (/is a long prescription/.test(issue.message)) return '超过 28 天为长期处方：须填写病情评估并经患者知情同意';
  if (/long prescription supplies more than/.test(issue.message)) return '长期处方的用药天数须超过 28 天';
  const perDay = /at most (\d+) packs for (\d+) days/.exec(issue.message);
  if (perDay) return `${perDay[2]} 天用量最多 ${perDay[1]} 盒`;
  const reserved = /on hand is below the (\d+) units reserved/.exec(issue.message);
  if (reserved) return `不能少于已预留的 ${reserved[1]}`;
  if (/does not overwrite balances/.test(issue.message)) return '登记后余额已因结算、冲正或划入改变，以平台为准，不按文件覆盖（姓名等也未更新）';
  if (/not enrolled/.test(issue.message)) return '该身份证号未参保登记';
  const creditedBefore = /^batch (.+) credited (\d+) fen to this person before/.exec(issue.message);
  if (creditedBefore) return `批次 ${creditedBefore[1]} 此前已为此人划入 ${yuan(Number(creditedBefore[2]))}：同一批次每人只划入一次`;
  const paidBy = /^(\d+) of the (\d+) packs of \S+ owing are paid by (.+), not yet dispensed$/.exec(issue.message);
  if (paidBy) return `尚欠 ${paidBy[2]} 盒中的 ${paidBy[1]} 盒已由结算 ${paidBy[3]!.split(', ').map(shortId).join('、')} 支付、尚未发药：请按该结算发药，不要再次收费`;
  if (/no prescription of this person/.test(issue.message)) return '该码不是此处方患者的医保电子凭证，或处方已不可结算（已作废或已过期）';
  const open = /^open prescription (\S+) of/.exec(issue.message);
  if (open) return `该患者已有此药的未完成处方（${shortId(open[1]!)}）`;
  if (/at least one/.test(issue.message)) return '至少填写一项';
  if (/names the platform itself/.test(issue.message)) return '该编码为平台保留，请换一个';
  if (/too many departments changed at once/.test(issue.message)) return '一次改动的科室过多：请先以较少的科室修改区县（或牵头医院），再添加其余科室';
  if (/a pharmacy has no departments/.test(issue.message)) return '药店不设科室';
  if (/department codes must be unique/.test(issue.message)) return '科室编码不能重复';
  if (/too_small/.test(issue.code ?? '') && !hint) return '必填';
  return hint ?? `不符合要求（${issue.message}）`;
}

/**
 * Client-side check with the route's schema; returns the parsed value or the field errors.
 * `shown`, as for problemToFields: an error on a path the form has no field for (a rule on a whole
 * list, such as unique department codes) is said under "" instead, never left unseen.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, shown: (path: string) => boolean = () => true): { ok: true; data: z.output<S> } | { ok: false; errors: FieldErrors } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, data: r.data };
  const errors: FieldErrors = {};
  for (const issue of r.error.issues) {
    const path = issue.path.map(String).join('.');
    // Left empty: say that (a blank URL is not "must not point into the private network"), in the
    // field's own words where it has them (请填写…).
    const typed = issue.path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), value);
    const blank = typeof typed === 'string' && typed.trim() === '';
    const said = translate(path, issue);
    errors[path] ??= blank && !said.startsWith('请') ? '必填' : said;
  }
  return { ok: false, errors: aboveForm(errors, shown) };
}

/** The errors on paths the form shows no field for, said under "" (above the form) with any already there. */
export function aboveForm(errors: FieldErrors, shown: (path: string) => boolean): FieldErrors {
  const out: FieldErrors = {};
  const unshown: string[] = [];
  for (const [path, message] of Object.entries(errors)) {
    if (path === '' || shown(path)) out[path] = message;
    else unshown.push(message);
  }
  if (unshown.length) out[''] = [...new Set([errors[''], ...unshown].filter(Boolean))].join('；');
  return out;
}

/**
 * An API error as field errors: `body.items.0.drugCode` → `items.0.drugCode`; the rest under "".
 * `shown`: the fields the form has (by default all); an error on a field it does not have (the
 * counter has no box for `prescriptionId`) is said under "" instead, never left unseen.
 */
export function problemToFields(err: unknown, shown: (path: string) => boolean = () => true): FieldErrors {
  if (!(err instanceof ApiError)) return { '': err instanceof Error ? err.message : String(err) };
  const errors: FieldErrors = {};
  const unshown: string[] = [];
  for (const e of err.problem.errors ?? []) {
    const path = e.path.replace(/^body\.?/, '');
    if (!path || path.startsWith('headers') || path.startsWith('query') || path === '(root)') continue;
    if (shown(path)) errors[path] ??= translate(path, e);
    else unshown.push(translate(path, e));
  }
  if (unshown.length) errors[''] = [...new Set(unshown)].join('；');
  else if (!Object.keys(errors).length || err.slug !== 'validation-failed') errors[''] = problemText(err);
  return errors;
}

/**
 * A national ID as typed, pasted or read by a card reader: spaces are not part of it (a paste often
 * brings one), and a reader's lowercase check character is the same ID. No length cut here: the
 * API says what is wrong with a wrong one.
 */
export const idTyped = (value: string) => value.replace(/\s+/g, '').toUpperCase();
/**
 * `shown` for a form whose fields are `names` (a list typed into one box, diagnoses, counts with its
 * items: diagnoses.1). An error on any other path is said above the form, not lost.
 */
export const onFields = (...names: string[]) => (path: string) => names.some((n) => path === n || path.startsWith(`${n}.`));
/** The error of a list typed into one box (diagnoses): its own, or its first item's (diagnoses.1). */
export const listError = (errors: FieldErrors, name: string) => errors[name] ?? Object.entries(errors).find(([k]) => k.startsWith(`${name}.`))?.[1];
/** ICD-10 codes as a doctor types them into one box: spaces, commas (either width) or 、 between. */
export const splitCodes = (text: string) => text.split(/[\s,，、]+/).filter(Boolean);
/** A lookup sent with no ID at all is asked for one, not told that '' is an invalid ID. */
export const noIdYet = (nationalId: string): FieldErrors | undefined => (nationalId ? undefined : { nationalId: '请输入身份证号，或读卡' });

/**
 * The errors of a list's lines after line `i` (of `list`, "items") is removed: its own go, and those
 * of the lines after it move up with them, so no error is left on the line that took its place.
 */
export function withoutLine(errors: FieldErrors, list: string, i: number): FieldErrors {
  const out: FieldErrors = {};
  const at = new RegExp(`^${list}\\.(\\d+)(?=\\.|$)`);
  for (const [path, message] of Object.entries(errors)) {
    const m = at.exec(path);
    const n = m ? Number(m[1]) : -1;
    if (n === i) continue;
    out[n > i ? `${list}.${n - 1}${path.slice(m![0].length)}` : path] = message;
  }
  return out;
}

/**
 * Keys for a form's lines that stay with each line as lines are added and removed: what a line's
 * fields keep (an error hidden after an edit) goes with it, not to the line taking its place.
 * `removed(i)` is called with the removal.
 */
export function useLineKeys(count: number) {
  const next = useRef(0);
  const keys = useRef<number[]>([]);
  while (keys.current.length < count) keys.current.push(next.current++);
  keys.current.length = count;
  return { keys: keys.current, removed: (i: number) => void keys.current.splice(i, 1) };
}
