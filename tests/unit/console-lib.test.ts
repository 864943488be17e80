// The console's pure helpers: money in yuan from integer fen (no floats either way), times in the
// province's zone, and the API's problem+json errors landing on the form's fields.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../console/src/lib/api.ts';
import { dateTime, dateTimeSeconds, instantOf, parseYuan, yuan, yuanInput } from '../../console/src/lib/format.ts';
import { problemToFields, validate } from '../../console/src/lib/forms.ts';
import { settlementRequest } from '../../schemas/vouchers.ts';

describe('money', () => {
  it('shows fen as yuan with two decimals and thousands separators', () => {
    expect([yuan(0), yuan(5), yuan(1234), yuan(123456789), yuan(-7000)]).toEqual(['¥0.00', '¥0.05', '¥12.34', '¥1,234,567.89', '-¥70.00']);
    expect(() => yuan(12.5)).toThrow(/integer/);
  });

  it('reads what a pharmacist types, exactly, and refuses anything else', () => {
    expect([parseYuan('35'), parseYuan('35.5'), parseYuan('35.50'), parseYuan(' 0.07 '), parseYuan('0.1')]).toEqual([3500, 3550, 3550, 7, 10]);
    for (const bad of ['', '1.234', '-1', '1,000', 'abc', '1e3', '.5']) expect(parseYuan(bad), bad).toBeUndefined();
  });

  it('round-trips every amount through the input field', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 99_999_999_999 }), (fen) => parseYuan(yuanInput(fen)) === fen));
  });
});

describe('time', () => {
  it('shows instants in Asia/Shanghai in zh-CN, whatever the machine zone', () => {
    expect(dateTime('2026-12-02T06:30:00Z')).toBe('2026年12月2日 14:30');
    // 16:30 UTC is already the next day in Shanghai.
    expect(dateTime('2026-12-31T16:30:00Z')).toBe('2027年1月1日 00:30');
  });

  it('shows access-log times to the second, in the same zone and format', () => {
    expect(dateTimeSeconds('2026-12-02T06:30:05.900Z')).toBe('2026年12月2日 14:30:05');
    expect(dateTimeSeconds('2026-12-31T16:00:00Z')).toBe('2027年1月1日 00:00:00');
  });

  it('turns an appointment picked on the wall clock into the instant the API takes', () => {
    expect(instantOf('2026-12-02', '09:00')).toBe('2026-12-02T01:00:00.000Z');
  });
});

describe('forms', () => {
  it("puts the API's errors on the fields they name, and the rest in one message", () => {
    const err = new ApiError(400, { type: 'https://consortium.example/problems/validation-failed', title: 'Request is not valid', status: 400, errors: [{ path: 'body.items.0.drugCode', message: 'no drug XZZ' }, { path: 'body.code', message: 'too short' }] });
    expect(problemToFields(err)).toEqual({ 'items.0.drugCode': '药品编码无效', code: '医保电子凭证码无效：请重新扫码' });
    const conflict = new ApiError(409, { type: 'https://consortium.example/problems/code-already-used', title: 'Voucher code already used', status: 409 });
    expect(problemToFields(conflict)).toEqual({ '': '该医保电子凭证码已使用，请患者刷新二维码后重新扫码' });
  });

  it("checks a form with the route's own schema, by field path", () => {
    const r = validate(settlementRequest, { code: 'aaaa.bbbb.cccc', items: [{ drugCode: 'bad code', quantity: 0, unitPriceFen: 100 }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual(['items.0.drugCode', 'items.0.quantity']);
  });
});
