// The enrolment file, read as Excel and WPS write CSV (RFC 4180): a cell in double quotes may hold
// commas, line breaks and "" for a quote mark. Splitting lines at every comma moved the rest of a
// quoted cell into the next columns, so a row could be enrolled with its values under the wrong
// headings. Pure (no DOM), so that tests/unit reads files the way the screen does.
import { nationalIdFault } from '#schemas/common';
import { MAX_CREDIT_FEN, MAX_ENROLMENT_BALANCE_FEN } from '#schemas/institutions';
import { parseYuan, yuan } from '../../lib/format.ts';

export type CsvRead = { ok: true; rows: string[][] } | { ok: false; message: string };

const blank = (c: string | undefined) => c === ' ' || c === '\t';

/**
 * The records of a CSV text, cells as written (quotes removed, "" read as "). Rows end in CRLF, LF
 * or CR; a UTF-8 BOM and a final line break are not data. Blank lines come back as [''] so that
 * the caller's row numbers stay those of the spreadsheet. A quote left open, or text after a
 * closing quote, refuses the whole file: guessing where the cell ends could shift the columns again.
 */
export function parseCsv(text: string): CsvRead {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: string[][] = [];
  if (!s) return { ok: true, rows };
  const n = s.length;
  let row: string[] = [];
  let i = 0;
  for (;;) {
    // Spaces around a quoted cell are not part of it: files typed by hand put one after the comma.
    let j = i;
    while (blank(s[j])) j++;
    let cell: string;
    if (s[j] === '"') {
      cell = '';
      j++;
      for (;;) {
        const q = s.indexOf('"', j);
        if (q < 0) return { ok: false, message: `第 ${rows.length + 1} 行的英文双引号没有配对，文件无法读取。请用 Excel 或 WPS 另存为 CSV 后重试` };
        cell += s.slice(j, q);
        j = q + 1;
        if (s[j] !== '"') break;
        cell += '"';
        j++;
      }
      while (blank(s[j])) j++;
      if (j < n && s[j] !== ',' && s[j] !== '\n' && s[j] !== '\r') {
        return { ok: false, message: `第 ${rows.length + 1} 行：引号括起的单元格后面还有内容，文件无法读取。单元格内的双引号须写成两个（""）` };
      }
    } else {
      // An unquoted cell ends at the next comma or line break; a quote inside it is just a character.
      j = i;
      while (j < n && s[j] !== ',' && s[j] !== '\n' && s[j] !== '\r') j++;
      cell = s.slice(i, j);
    }
    row.push(cell);
    if (j >= n) {
      rows.push(row);
      return { ok: true, rows };
    }
    if (s[j] === ',') {
      i = j + 1;
      continue;
    }
    rows.push(row);
    row = [];
    i = s[j] === '\r' && s[j + 1] === '\n' ? j + 2 : j + 1;
    if (i >= n) return { ok: true, rows };
  }
}

export type PersonKey = 'nationalId' | 'name' | 'phone' | 'district' | 'personalAccount' | 'annualPooledUsed';

/** CSV columns, by header (Chinese or the API's field names). Balances are in yuan. */
export const columns: Record<string, PersonKey> = {
  身份证号: 'nationalId', nationalId: 'nationalId', 姓名: 'name', name: 'name', 手机号: 'phone', phone: 'phone', 区县: 'district', district: 'district',
  '个人账户余额（元）': 'personalAccount', 个人账户余额: 'personalAccount', personalAccount: 'personalAccount', '本年统筹已用（元）': 'annualPooledUsed', annualPooledUsed: 'annualPooledUsed',
};

/** The CSV column a person's field came from, as the operator named it. */
export const columnLabel: Record<string, string> = {
  nationalId: '身份证号', name: '姓名', phone: '手机号', district: '区县', personalAccountFen: '个人账户余额', annualPooledUsedFen: '本年统筹已用', personalAccount: '个人账户余额', annualPooledUsed: '本年统筹已用',
  amount: '划入金额', amountFen: '划入金额',
};

export interface RowError { row: number; field: string; message: string }

/**
 * A file that was not UTF-8 (Excel's plain "CSV" in a Chinese Windows is GBK) is read with U+FFFD in
 * place of each character it could not decode: its names would be enrolled as garbage.
 */
export const notUtf8 = '文件可能不是 UTF-8 编码（可能是 GBK），请在 Excel/WPS 中另存为“CSV UTF-8”后重新上传';
const unreadable = (cell: string) => cell.includes('\uFFFD');

export interface Parsed { people: Array<{ row: number; person: Record<string, unknown> }>; errors: RowError[] }

const nationalIdFaultText = {
  format: '应为18位数字，末位可为X',
  check: '校验位不符，请核对是否有一位录错',
  area: '地区码不是省级行政区划代码（前两位，外国人永久居留身份证为第2–3位）',
  birth: '出生日期不存在或晚于今天',
} as const;

/** What is wrong with a national ID as the file has it, or undefined when it is a valid one. */
function nationalIdProblem(id: string): string | undefined {
  if (id === '') return '必填';
  const fault = nationalIdFault(id);
  return fault && `身份证号无效：${nationalIdFaultText[fault]}`;
}

/** An amount Excel wrote with thousands separators ("1,000.50", a quoted cell) is the same amount. */
const withoutThousands = (v: string) => (/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(v) ? v.replace(/,/g, '') : v);

/** A cell of yuan as fen, or the row's error. */
const yuanCell = (v: string, field: string, row: number): number | RowError => parseYuan(withoutThousands(v)) ?? { row, field, message: `金额无效：${v}（元，最多两位小数）` };

/**
 * The rows of a file of people (an enrolment, a credit), each with its spreadsheet row number (the
 * header is row 1). A row is not sent when a cell cannot be read, when a check of `kind` fails,
 * when its national ID is invalid, or when the file holds that ID twice (which row is right is the
 * operator's call, not the order of the file's rows).
 */
function readRows<K extends string>(
  text: string,
  kind: {
    columns: Record<string, K>;
    /** The header must name these (the message when it does not). */
    required: readonly K[];
    missing: string;
    /** The row's record from its cells by column (blank ones left out), and its errors. */
    record: (cells: Partial<Record<K, string>>, row: number) => { record: Record<string, unknown>; errors: RowError[] };
  },
): Parsed | string {
  const read = parseCsv(text);
  if (!read.ok) return read.message;
  const isBlank = (cells: string[]) => cells.every((c) => c.trim() === '');
  const headerAt = read.rows.findIndex((cells) => !isBlank(cells));
  const header = read.rows[headerAt]?.map((h) => kind.columns[h.trim()]);
  if (!header || kind.required.some((k) => !header.includes(k))) {
    // A GBK file's Chinese headings are what went unread: say why, not only what is missing.
    if (read.rows[headerAt]?.some(unreadable)) return `表头无法读取：${notUtf8}`;
    return kind.missing;
  }
  const parsed: Parsed = { people: [], errors: [] };
  const candidates: Array<{ row: number; id: string; person: Record<string, unknown>; ok: boolean }> = [];
  read.rows.forEach((raw, i) => {
    if (i <= headerAt || isBlank(raw)) return; // An empty row (",,,," from Excel too) is no one.
    const row = i + 1;
    const cells = raw.map((c) => c.trim());
    // More cells than headings: a comma in an unquoted cell split it, and every cell after it is
    // under the wrong heading. Nothing of such a row can be trusted.
    if (cells.length > header.length) {
      parsed.errors.push({ row, field: '整行', message: `本行有 ${cells.length} 列，表头只有 ${header.length} 列：含逗号的内容须用英文双引号括起` });
      return;
    }
    // Checked before anything is sent: the API would refuse the whole batch of 500 for this one row.
    const garbled = cells.findIndex(unreadable);
    if (garbled >= 0) {
      const key = header[garbled];
      parsed.errors.push({ row, field: (key && columnLabel[key]) || '整行', message: `含无法识别的字符（乱码）：${notUtf8}` });
    }
    const byColumn: Partial<Record<K, string>> = {};
    header.forEach((key, c) => {
      if (key && cells[c]) byColumn[key] = cells[c];
    });
    const { record, errors } = kind.record(byColumn, row);
    parsed.errors.push(...errors);
    // The API reads a lower-case check character as the same ID.
    const id = (byColumn['nationalId' as K] ?? '').toUpperCase();
    const idProblem = nationalIdProblem(id);
    if (idProblem) parsed.errors.push({ row, field: columnLabel.nationalId!, message: idProblem });
    candidates.push({ row, id, person: { nationalId: id, ...record }, ok: garbled < 0 && !errors.length && !idProblem });
  });
  const rowsOf = new Map<string, number[]>();
  for (const c of candidates) if (c.id) rowsOf.set(c.id, [...(rowsOf.get(c.id) ?? []), c.row]);
  for (const c of candidates) {
    const others = rowsOf.get(c.id)?.filter((r) => r !== c.row) ?? [];
    if (others.length) parsed.errors.push({ row: c.row, field: columnLabel.nationalId!, message: `身份证号重复：与第 ${others.join('、')} 行相同` });
    else if (c.ok) parsed.people.push({ row: c.row, person: c.person });
  }
  // By row, as the file reads (a row's own errors keep their order: the sort is stable).
  parsed.errors.sort((a, b) => a.row - b.row);
  return parsed;
}

/** The enrolment file's rows as people (to POST /enrollments). */
export function readPeople(text: string): Parsed | string {
  return readRows<PersonKey>(text, {
    columns,
    // The balance too: API.md requires it, and a person enrolled again without one would get 0.
    required: ['nationalId', 'name', 'personalAccount'],
    missing: '首行须为表头，至少包含“身份证号”“姓名”“个人账户余额（元）”三列',
    record: ({ nationalId: _id, personalAccount, annualPooledUsed, ...text }, row) => {
      const errors: RowError[] = [];
      const person: Record<string, unknown> = { ...text };
      for (const [key, v] of [['personalAccount', personalAccount], ['annualPooledUsed', annualPooledUsed]] as const) {
        if (v === undefined) continue;
        const fen = yuanCell(v, columnLabel[key]!, row);
        if (typeof fen === 'number') person[`${key}Fen`] = fen;
        else errors.push(fen);
      }
      // The API would refuse the whole batch for one blank name.
      if (!person.name) errors.push({ row, field: columnLabel.name!, message: '必填' });
      if (!errors.length && person.personalAccountFen === undefined) errors.push({ row, field: columnLabel.personalAccount!, message: '必填（元）' });
      if ((person.personalAccountFen as number) > MAX_ENROLMENT_BALANCE_FEN) errors.push({ row, field: columnLabel.personalAccount!, message: `超过 ${yuan(MAX_ENROLMENT_BALANCE_FEN)}，请核对单位（元）` });
      return { record: person, errors };
    },
  });
}

/** The credit file's rows as credits (to POST /personal-account-credits): 身份证号, 划入金额（元）. */
export function readCredits(text: string): Parsed | string {
  return readRows<'nationalId' | 'amount'>(text, {
    columns: { 身份证号: 'nationalId', nationalId: 'nationalId', '划入金额（元）': 'amount', 划入金额: 'amount', amount: 'amount' },
    required: ['nationalId', 'amount'],
    missing: '首行须为表头，包含“身份证号”“划入金额（元）”两列',
    record: ({ amount }, row) => {
      const field = columnLabel.amount!;
      if (amount === undefined) return { record: {}, errors: [{ row, field, message: '必填（元）' }] };
      const fen = yuanCell(amount, field, row);
      if (typeof fen !== 'number') return { record: {}, errors: [fen] };
      if (fen < 1) return { record: {}, errors: [{ row, field, message: '划入金额须大于 0' }] };
      if (fen > MAX_CREDIT_FEN) return { record: {}, errors: [{ row, field, message: `单人单次划入不能超过 ${yuan(MAX_CREDIT_FEN)}，请核对单位` }] };
      return { record: { amountFen: fen }, errors: [] };
    },
  });
}

/** Rows as CSV text (RFC 4180, CRLF), each cell quoted where it must be: what parseCsv reads back. */
export function writeCsv(rows: string[][]): string {
  const cell = (c: string) => (/[",\r\n]/.test(c) || c !== c.trim() ? `"${c.replace(/"/g, '""')}"` : c);
  return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/**
 * The file's rows that were not enrolled, as written (same columns, the same header), with why in a
 * 原因 column (the file's own 原因 column when it has one: a file of failed rows sent again): to
 * correct in Excel or WPS and upload again. `reasons`: row number → why. A BOM, so that Excel reads
 * it as UTF-8.
 */
export function failedRowsCsv(text: string, reasons: ReadonlyMap<number, string>): string {
  const read = parseCsv(text);
  if (!read.ok) return '';
  const headerAt = read.rows.findIndex((cells) => cells.some((c) => c.trim() !== ''));
  const header = [...(read.rows[headerAt] ?? [])];
  const width = header.length;
  let at = header.findIndex((h) => h.trim() === '原因');
  if (at < 0) at = header.push('原因') - 1;
  const rows = [...reasons].sort(([a], [b]) => a - b).map(([row, why]) => {
    const cells = [...(read.rows[row - 1] ?? [])];
    // A row with more cells than headings keeps them all; its reason then follows them.
    if (cells.length > width) return [...cells, why];
    while (cells.length < header.length) cells.push('');
    cells[at] = why;
    return cells;
  });
  return '\ufeff' + writeCsv([header, ...rows]);
}
