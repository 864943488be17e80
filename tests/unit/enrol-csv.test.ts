// The operator's enrolment file as the console reads it: CSV per RFC 4180 as Excel and WPS write it
// (quoted cells with commas, "" and line breaks; CRLF or LF; a BOM), and the rows held back before
// anything is sent (an unreadable balance, an invalid national ID, the same ID twice).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsv, readCredits, readPeople, type Parsed } from '../../console/src/features/operator/csv.ts';
import { nationalIdCheckChar } from '../../schemas/common.ts';

const rows = (text: string) => {
  const r = parseCsv(text);
  if (!r.ok) throw new Error(r.message);
  return r.rows;
};

/** A valid national ID from 17 digits. */
const id = (first17: string) => first17 + nationalIdCheckChar(first17);

describe('parseCsv', () => {
  it('keeps a quoted cell whole: commas, "" for a quote, line breaks', () => {
    expect(rows('a,"王伟, 重复",c')).toEqual([['a', '王伟, 重复', 'c']]);
    expect(rows('"say ""hi""",""""')).toEqual([['say "hi"', '"']]);
    expect(rows('1,"two\r\nlines",3\r\n4,5,6')).toEqual([['1', 'two\r\nlines', '3'], ['4', '5', '6']]);
    expect(rows('"",x,""')).toEqual([['', 'x', '']]);
  });

  it('ends rows at CRLF, LF or CR; a BOM and a final line break are not data', () => {
    expect(rows('\ufeffa,b\r\nc,d\r\n')).toEqual([['a', 'b'], ['c', 'd']]);
    expect(rows('a,b\nc,d\n')).toEqual([['a', 'b'], ['c', 'd']]);
    expect(rows('a,b\rc,d')).toEqual([['a', 'b'], ['c', 'd']]);
    expect(rows('')).toEqual([]);
    expect(rows('\ufeff')).toEqual([]);
  });

  it('returns blank lines and empty cells as they are, so that row numbers stay the spreadsheet\'s', () => {
    expect(rows('h\n\nx\n')).toEqual([['h'], [''], ['x']]);
    expect(rows('a,,\n,,\n')).toEqual([['a', '', ''], ['', '', '']]);
  });

  it('reads a quote inside an unquoted cell as a character, and ignores spaces around a quoted cell', () => {
    expect(rows('5"2,b')).toEqual([['5"2', 'b']]);
    expect(rows('a, "b, c" ,d')).toEqual([['a', 'b, c', 'd']]);
    expect(rows(' a , b ')).toEqual([[' a ', ' b ']]);
  });

  it('refuses a file whose quotes do not pair, naming the row, rather than guessing where a cell ends', () => {
    const open = parseCsv('h\nx,y\n"王伟, 重复,1\nz,1\n');
    expect(open).toEqual({ ok: false, message: expect.stringMatching(/^第 3 行的英文双引号没有配对/) });
    const after = parseCsv('h\n"王伟"先生,1\n');
    expect(after).toEqual({ ok: false, message: expect.stringMatching(/^第 2 行：引号括起的单元格后面还有内容/) });
  });

  it('reads back any table written per RFC 4180, with CRLF or LF, with or without a BOM and final line break', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', '王', ' ', ',', '"', '\n', '\r', '\r\n', '1', '.'), maxLength: 8 });
    const table = fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 })
      // A last row of one empty cell is a final line break when written: the two read the same.
      .filter((t) => !(t.at(-1)!.length === 1 && t.at(-1)![0] === ''));
    fc.assert(fc.property(table, fc.constantFrom('\r\n', '\n'), fc.boolean(), fc.boolean(), fc.boolean(), (t, eol, bom, finalEol, quoteAll) => {
      const write = (c: string) => (quoteAll || /[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c);
      const text = (bom ? '\ufeff' : '') + t.map((r) => r.map(write).join(',')).join(eol) + (finalEol ? eol : '');
      expect(rows(text)).toEqual(t);
    }));
  });
});

describe('readPeople', () => {
  const header = '身份证号,姓名,手机号,区县,个人账户余额（元）,备注';
  const read = (...lines: string[]) => {
    const p = readPeople([header, ...lines].join('\r\n'));
    if (typeof p === 'string') throw new Error(p);
    return p;
  };
  const a = id('33010619450101100');
  const b = id('33010619500202200');
  const c = id('33010619600303300');

  it('puts a quoted cell\'s values under their own headings (Excel and WPS quote a cell with a comma)', () => {
    const p = read(`${a},"王伟, 重复",13900001111,西湖区,88.00,"行动不便，\r\n需上门"`, `${b},"李""小""红",,上城区,10,`);
    expect(p.errors).toEqual([]);
    expect(p.people).toEqual([
      { row: 2, person: { nationalId: a, name: '王伟, 重复', phone: '13900001111', district: '西湖区', personalAccountFen: 8800 } },
      { row: 3, person: { nationalId: b, name: '李"小"红', district: '上城区', personalAccountFen: 1000 } },
    ]);
  });

  it('holds back both rows that carry the same national ID, naming each other', () => {
    const p = read(`${a},周九,,西湖区,1,`, `${b},孙八,,西湖区,1,`, `${a.toLowerCase()},周九二,,西湖区,1,`, `${a},周九三,,西湖区,x,`);
    expect(p.people.map((x) => x.row)).toEqual([3]);
    expect(p.errors).toEqual([
      { row: 2, field: '身份证号', message: '身份证号重复：与第 4、5 行相同' },
      { row: 4, field: '身份证号', message: '身份证号重复：与第 2、5 行相同' },
      { row: 5, field: '个人账户余额', message: '金额无效：x（元，最多两位小数）' },
      { row: 5, field: '身份证号', message: '身份证号重复：与第 2、4 行相同' },
    ]);
  });

  it('holds back a national ID that is not one, before anything is sent', () => {
    const wrongCheck = a.slice(0, 17) + (a[17] === '0' ? '1' : '0');
    const p = read(`${wrongCheck},钱七,,西湖区,1,`, '3301061945,吴十,,西湖区,1,', `${id('33010619451301100')},郑一,,西湖区,1,`, ',王五,,西湖区,1,', `${c},赵六,,西湖区,1,`, `${id('99999919800101901')},冯二,,西湖区,1,`);
    expect(p.people.map((x) => x.row)).toEqual([6]);
    expect(p.errors).toEqual([
      { row: 2, field: '身份证号', message: '身份证号无效：校验位不符，请核对是否有一位录错' },
      { row: 3, field: '身份证号', message: '身份证号无效：应为18位数字，末位可为X' },
      { row: 4, field: '身份证号', message: '身份证号无效：出生日期不存在或晚于今天' },
      { row: 5, field: '身份证号', message: '必填' },
      { row: 7, field: '身份证号', message: '身份证号无效：地区码不是省级行政区划代码（前两位，外国人永久居留身份证为第2–3位）' },
    ]);
  });

  it('holds back a balance over ¥1,000,000 (yuan typed as fen), and takes one of exactly that', () => {
    const p = read(`${a},王伟,,西湖区,1000000.01,`, `${b},李娜,,西湖区,1000000,`);
    expect(p.people.map((x) => x.row)).toEqual([3]);
    expect(p.errors).toEqual([{ row: 2, field: '个人账户余额', message: '超过 ¥1,000,000.00，请核对单位（元）' }]);
  });

  it('reads an amount Excel wrote with thousands separators; holds back a row without a name', () => {
    const p = read(`${a},王伟,,西湖区,"1,000.50",`, `${b},,,西湖区,1,`, `${c},赵六,,西湖区,"1,00",`);
    expect(p.people).toEqual([{ row: 2, person: { nationalId: a, name: '王伟', district: '西湖区', personalAccountFen: 100_050 } }]);
    expect(p.errors).toEqual([
      { row: 3, field: '姓名', message: '必填' },
      { row: 4, field: '个人账户余额', message: '金额无效：1,00（元，最多两位小数）' },
    ]);
  });

  it('numbers rows as the spreadsheet does: blank rows skipped but counted, a multi-line cell one row', () => {
    const p = read(`${a},王伟,,西湖区,1,"第一行\n第二行"`, '', ',,,,,', `${b},孙八,,西湖区,1.234,`);
    expect(p).toEqual<Parsed>({
      people: [{ row: 2, person: { nationalId: a, name: '王伟', district: '西湖区', personalAccountFen: 100 } }],
      errors: [{ row: 5, field: '个人账户余额', message: '金额无效：1.234（元，最多两位小数）' }],
    });
  });

  it('holds back a row with more cells than headings: an unquoted comma shifted its cells', () => {
    const p = read(`${a},王伟, 重复,,西湖区,1,`, `${b},孙八,,西湖区,1,`, `${c},赵六,,西湖区,1`);
    expect(p.errors).toEqual([{ row: 2, field: '整行', message: '本行有 7 列，表头只有 6 列：含逗号的内容须用英文双引号括起' }]);
    // Fewer cells are the last columns left out (a file typed by hand): read as empty.
    expect(p.people.map((x) => x.row)).toEqual([3, 4]);
  });

  it('refuses a file without the required headings, or whose quotes do not pair', () => {
    expect(readPeople('姓名,个人账户余额（元）\r\n王伟,1')).toMatch(/^首行须为表头/);
    expect(readPeople(`${header}\n${a},"王伟,,西湖区,1,\n`)).toMatch(/^第 2 行的英文双引号没有配对/);
  });
});

describe('the credit file (个人账户划入)', () => {
  const ids = ['33010619780808101', '33010619780808102', '33010619780808103', '33010619780808104', '33010619780808105'].map(id);
  it('reads 身份证号 and 划入金额（元） as fen; holds back a zero, a negative or too large amount, a blank one, a bad ID and a repeated one', () => {
    const text = ['身份证号,划入金额（元）', `${ids[0]},"1,500.00"`, `${ids[1]},0`, `${ids[2]},-5`, `${ids[3]},100000.01`, `${ids[4]},`, `${ids[0]!.slice(0, 17)}${ids[0]![17] === '0' ? '1' : '0'},1`, `${ids[0]},2`].join('\n');
    const p = readCredits(text) as Parsed;
    expect(p.people).toEqual([]);
    expect(p.errors.map((e) => [e.row, e.field, e.message])).toEqual([
      [2, '身份证号', '身份证号重复：与第 8 行相同'],
      [3, '划入金额', '划入金额须大于 0'],
      [4, '划入金额', '金额无效：-5（元，最多两位小数）'],
      [5, '划入金额', '单人单次划入不能超过 ¥100,000.00，请核对单位'],
      [6, '划入金额', '必填（元）'],
      [7, '身份证号', expect.stringContaining('身份证号无效')],
      [8, '身份证号', '身份证号重复：与第 2 行相同'],
    ]);
    expect((readCredits(['身份证号,划入金额（元）', `${ids[1]},"1,500.5"`].join('\n')) as Parsed).people).toEqual([{ row: 2, person: { nationalId: ids[1], amountFen: 150_050 } }]);
    expect(readCredits('身份证号,金额\n1,2')).toBe('首行须为表头，包含“身份证号”“划入金额（元）”两列');
  });
});
