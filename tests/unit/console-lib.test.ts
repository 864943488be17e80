// The console's pure helpers: money in yuan from integer fen (no floats either way), times in the
// province's zone, the API's problem+json errors landing on the form's fields, and the counter's
// rules about packs (trace codes scanned, what a prescription owes, what a dispense hands over).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError, outcomeUnknown } from '../../console/src/lib/api.ts';
import { dateTime, dateTimeSeconds, instantOf, parseYuan, sortableDateTime, yuan, yuanInput } from '../../console/src/lib/format.ts';
import { aboveForm, problemToFields, validate, withoutLine } from '../../console/src/lib/forms.ts';
import { problemText, webhookEventLabel } from '../../console/src/lib/labels.ts';
import { accessRuns } from '../../console/src/features/operator/access.ts';
import { failedRowsCsv, parseCsv, readPeople, writeCsv } from '../../console/src/features/operator/csv.ts';
import { nextDay, untilNextCheck } from '../../console/src/shared/today.ts';
import { nationalIdCheckChar } from '../../schemas/common.ts';
import { webhookEventNames } from '../../events/audience.ts';
import { dispenseItems, owingOf, owingUnpaid, payableBy, scanTraceCodes, soldCodes, undispensedSettlements, unspentOf } from '../../console/src/features/pharmacy/packs.ts';
import { prescriptionRequest } from '../../schemas/prescriptions.ts';
import { settlementRequest, type Settlement } from '../../schemas/vouchers.ts';
import { institutionInput } from '../../schemas/institutions.ts';
import { attemptText } from '../../console/src/features/webhooks/attempts.ts';
import { refusedAddress } from '../../functions/webhooks/url-guard.ts';

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

describe('time for files', () => {
  it('sortableDateTime: the province\'s wall clock, zero-padded, around its midnight', () => {
    expect(sortableDateTime('2026-11-30T16:00:00Z')).toBe('2026-12-01 00:00:00');
    expect(sortableDateTime('2026-12-01T01:02:03Z')).toBe('2026-12-01 09:02:03');
    expect(sortableDateTime('2026-12-31T15:59:59Z')).toBe('2026-12-31 23:59:59');
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
  it('says a count below what is reserved on its line, with the number reserved', () => {
    const below = new ApiError(409, {
      type: 'https://consortium.example/problems/conflict', title: 'Conflicts with the current state', status: 409,
      errors: [{ path: 'body.items.1.quantity', message: '3 on hand is below the 4 units reserved' }],
    });
    expect(problemToFields(below)['items.1.quantity']).toBe('不能少于已预留的 4');
  });

  it("drops a removed line's errors and moves the later lines' up with them", () => {
    const errors = { '': '请检查', code: '无效', 'items.0.unitPriceFen': '单价无效', 'items.1.quantity': '数量须为正整数', 'items.1.traceCodes.0': '该追溯码已被销售', 'items.12.drugCode': '药品编码无效', items: '最多 20 项' };
    expect(withoutLine(errors, 'items', 0)).toEqual({ '': '请检查', code: '无效', 'items.0.quantity': '数量须为正整数', 'items.0.traceCodes.0': '该追溯码已被销售', 'items.11.drugCode': '药品编码无效', items: '最多 20 项' });
    expect(withoutLine(errors, 'items', 1)).toEqual({ '': '请检查', code: '无效', 'items.0.unitPriceFen': '单价无效', 'items.11.drugCode': '药品编码无效', items: '最多 20 项' });
    // Line 1 is not line 12, nor an item list named alike.
    expect(withoutLine({ 'items.12.drugCode': 'x', 'itemsX.1': 'y' }, 'items', 1)).toEqual({ 'items.11.drugCode': 'x', 'itemsX.1': 'y' });
  });

  it("puts the API's errors on the fields they name, and the rest in one message", () => {
    const err = new ApiError(400, { type: 'https://consortium.example/problems/validation-failed', title: 'Request is not valid', status: 400, errors: [{ path: 'body.items.0.drugCode', message: 'no drug XZZ' }, { path: 'body.code', message: 'too short' }] });
    expect(problemToFields(err)).toEqual({ 'items.0.drugCode': '药品编码无效', code: '医保电子凭证码无效：请重新扫码' });
    const conflict = new ApiError(409, { type: 'https://consortium.example/problems/code-already-used', title: 'Voucher code already used', status: 409 });
    expect(problemToFields(conflict)).toEqual({ '': '该医保电子凭证码已使用，请患者刷新二维码后重新扫码' });
    // A field the form does not have (the counter has no box for prescriptionId) is said above it, never lost.
    const unshown = new ApiError(400, { type: 'https://consortium.example/problems/validation-failed', title: 'Request is not valid', status: 400, errors: [{ path: 'body.prescriptionId', message: 'no prescription of this person routed to this pharmacy' }] });
    expect(problemToFields(unshown, (path) => path === 'code')).toEqual({ '': '该码不是此处方患者的医保电子凭证，或处方已不可结算（已作废或已过期）' });
    // Packs paid by another settlement: on the line, naming it as the desk shows settlements (the counter says more above).
    const paid = new ApiError(409, {
      type: 'https://consortium.example/problems/conflict', title: 'Conflicts with the current state', status: 409,
      errors: [{ path: 'body.items.0.quantity', message: '2 of the 3 packs of XC08CAA001 owing are paid by stl_aaaaaaabcdef, stl_bbbbbb123456, not yet dispensed' }],
    });
    expect(problemToFields(paid)).toEqual({
      'items.0.quantity': '尚欠 3 盒中的 2 盒已由结算 ABCDEF、123456 支付、尚未发药：请按该结算发药，不要再次收费',
      '': '与现有记录冲突，请核对后重试',
    });
  });

  it('says in Chinese what the desks meet: a pharmacy no longer designated, a change of too many departments', () => {
    const notDesignated = new ApiError(403, { type: 'https://consortium.example/problems/forbidden', title: 'Not allowed for this caller', status: 403, detail: 'institution ph-x is not designated for insurance settlement' });
    expect(problemText(notDesignated)).toContain('已被取消医保定点');
    const many = new ApiError(400, { type: 'https://consortium.example/problems/validation-failed', title: 'Request is not valid', status: 400, errors: [{ path: 'body.departments', message: 'too many departments changed at once: change the district (or lead hospital) with fewer departments, then add the rest' }] });
    expect(problemToFields(many, (p) => p !== 'departments')).toEqual({ '': '一次改动的科室过多：请先以较少的科室修改区县（或牵头医院），再添加其余科室' });
  });

  it('an answer that is not the API\'s (a proxy\'s page, a 5xx) is in Chinese, and its outcome unknown; a refusal is known', () => {
    const timeout = new ApiError(504, { type: 'https://consortium.example/problems/gateway-timeout', title: '无法读取服务器的回答', status: 504 });
    expect(problemText(timeout)).toBe('服务器响应超时，请稍后重试');
    expect(problemText(new ApiError(418, { type: 'teapot', title: "I'm a teapot", status: 418 }))).toBe('请求失败（418），请稍后重试');
    expect([0, 200, 500, 502, 504].map((st) => outcomeUnknown(new ApiError(st, { type: 'x', title: 'x', status: st })))).toEqual([true, true, true, true, true]);
    expect([400, 409, 410, 422].map((st) => outcomeUnknown(new ApiError(st, { type: 'x', title: 'x', status: st })))).toEqual([false, false, false, false]);
  });

  it('says which conflict a 409 is, from its detail: a second open prescription of a drug is not "changed by someone else"', () => {
    // The API's own wording (functions/prescriptions/store.ts).
    const open = new ApiError(409, {
      type: 'https://consortium.example/problems/conflict', title: 'Conflicts with the current state', status: 409,
      detail: 'an open prescription of XC08CAA001 (rx_01m8nt08t26y1r4sjz1wt41z4v2) for this person exists: cancel it, or wait until it is dispensed or expires',
      errors: [{ path: 'body.items.0.drugCode', message: 'open prescription rx_01m8nt08t26y1r4sjz1wt41z4v2 of XC08CAA001' }],
    });
    expect(problemToFields(open)).toEqual({ 'items.0.drugCode': '该患者已有此药的未完成处方（41Z4V2）', '': '该患者已有同一药品的未完成处方：可在“处方”中将其作废，或待其发药或过期' });
    const other = new ApiError(409, { type: 'conflict', title: 'Conflicts with the current state', status: 409, detail: 'something else' });
    expect(problemToFields(other)).toEqual({ '': '与现有记录冲突，请核对后重试' });
    // The same table serves other types: a reversal refused once the drugs were handed over.
    const handedOver = new ApiError(409, { type: 'invalid-transition', title: 'Not allowed from the current status', status: 409, detail: 'the settlement paid for a dispensed prescription (rx_01abc); it cannot be reversed' });
    expect(problemToFields(handedOver)).toEqual({ '': '该结算已用于处方发药，药品已发出，不能冲正' });
  });

  it("checks a form with the route's own schema, by field path", () => {
    const r = validate(settlementRequest, { code: 'aaaa.bbbb.cccc', items: [{ drugCode: 'bad code', quantity: 0, unitPriceFen: 100 }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual(['items.0.drugCode', 'items.0.quantity']);
  });
});

describe('forms: a field is said by what it is, not only by its last name', () => {
  it("a department's code and name, an institution's name, bounds, the settlement limit and a webhook URL", () => {
    const r = validate(institutionInput, { id: 'clinic-x', name: '', type: 'clinic', district: '西湖区', designated: true, departments: [{ code: '', name: '', dailyCapacity: 1 }] });
    expect(r.ok ? {} : r.errors).toMatchObject({ name: '请填写名称', 'departments.0.code': '必填', 'departments.0.name': '请填写科室名称' });
    const badCode = validate(institutionInput, { id: 'clinic-x', name: '某中心', type: 'clinic', district: '西湖区', designated: true, departments: [{ code: '全科', name: '全科', dailyCapacity: 1 }] });
    expect(badCode.ok ? {} : badCode.errors).toEqual({ 'departments.0.code': '科室编码：字母、数字、“-”或“_”，最多32位' });
    const twice = validate(institutionInput, { id: 'clinic-x', name: '某中心', type: 'clinic', district: '西湖区', designated: true, departments: [{ code: 'GP', name: '全科', dailyCapacity: 1 }, { code: 'GP', name: '全科二', dailyCapacity: 1 }] });
    expect(twice.ok ? {} : twice.errors).toEqual({ departments: '科室编码不能重复' });
    // A voucher code is still a voucher code; a person's name still a name.
    expect(validate(settlementRequest, { code: 'abc', items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 100 }] })).toMatchObject({ errors: { code: '医保电子凭证码无效：请重新扫码' } });
    // Left empty, a field says so, whatever it is for: a blank URL is not "into the private network".
    expect(validate(settlementRequest, { code: ' ', items: [{ drugCode: '', quantity: 1, unitPriceFen: 100 }] })).toMatchObject({ errors: { code: '必填', 'items.0.drugCode': '必填' } });
    const over = validate(settlementRequest, { code: 'aaaa.bbbb.cccc', items: [{ drugCode: 'XC08CAA001', quantity: 101, unitPriceFen: 100 }] });
    expect(over.ok ? {} : over.errors).toEqual({ 'items.0.quantity': '不能大于 100' });
    const api = (path: string, message: string) => problemToFields(new ApiError(400, { type: 'validation-failed', title: 'Request is not valid', status: 400, errors: [{ path, message }] }));
    expect(api('body.people.3.name', 'Too small: expected string to have >=1 characters')).toEqual({ 'people.3.name': '请填写姓名' });
    expect(api('body.items', 'total above 2000000 fen')).toEqual({ items: '单笔结算不能超过 ¥20,000.00，请分开结算' });
    expect(api('body.url', 'no-such-host.invalid does not resolve')).toEqual({ url: '域名无法解析，请检查地址' });
    expect(api('body.url', 'must not carry a user name or password')).toEqual({ url: '地址中不能包含用户名或密码' });
    expect(api('body.url', '10.0.0.1 is a private address')).toEqual({ url: '须为可从公网访问的 https:// 地址，不得指向内网、本机或云元数据地址' });
    // The API's words (functions/referrals/domain.ts checkAppointment): why the time is refused.
    expect(api('body.appointmentAt', 'is in the past')).toEqual({ appointmentAt: '预约时间已过，请选择之后的时间' });
    expect(api('body.appointmentAt', 'is more than 180 days ahead')).toEqual({ appointmentAt: '预约时间不能超过 180 天之后' });
  });
});

describe('forms: trace codes and long prescriptions', () => {
  it('says in Chinese what is wrong with trace codes and long prescriptions, on the field', () => {
    const [a, b] = ['80000000000000000001', '80000000000000000002'];
    const r = validate(settlementRequest, { code: 'aaaa.bbbb.cccc', items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 100, traceCodes: [a, b] }, { drugCode: 'XC09CAA001', quantity: 2, unitPriceFen: 100, traceCodes: [a, '12'] }] });
    expect(r.ok ? {} : r.errors).toEqual({ 'items.0.traceCodes': '追溯码多于数量：每盒一码', 'items.1.traceCodes.0': '同一追溯码重复扫描', 'items.1.traceCodes.1': '追溯码无效：20 位数字，以 8 开头' });

    const long = validate(prescriptionRequest, { personId: 'per_0123456789abcdef', diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 60, dosage: '每日一片' }], supplyDays: 56 });
    expect(long.ok ? {} : long.errors).toEqual({ longTerm: '超过 28 天为长期处方：须填写病情评估并经患者知情同意', 'items.0.quantity': '56 天用量最多 56 盒' });
    const noConsent = validate(prescriptionRequest, { personId: 'per_0123456789abcdef', diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 56, dosage: '每日一片' }], supplyDays: 56, longTerm: { assessment: '稳定' } });
    expect(noConsent.ok ? {} : noConsent.errors).toEqual({ 'longTerm.patientConsent': '长期处方须经患者知情同意' });

    const refused = new ApiError(400, { type: 'validation-failed', title: 'Request is not valid', status: 400, errors: [{ path: 'body.items.0.drugCode', message: 'XJ01CAA001 may not be on a long prescription' }] });
    expect(problemToFields(refused)).toEqual({ 'items.0.drugCode': '该药品不可开具长期处方（如抗菌药物）' });
  });
});

describe('the counter: packs and trace codes', () => {
  const code = (n: number) => `8${String(n).padStart(19, '0')}`;

  it('a scan appends codes, one per pack, none twice on the counter, and leaves what it refused in the field', () => {
    expect(scanTraceCodes(` ${code(1)}\n${code(2)} `, { codes: [], packs: 3 }, new Set())).toEqual({ codes: [code(1), code(2)], left: '' });
    const full = scanTraceCodes(`${code(3)} ${code(4)}`, { codes: [code(1), code(2)], packs: 3 }, new Set());
    expect(full).toEqual({ codes: [code(1), code(2), code(3)], left: code(4), problem: '已扫 3 盒，与数量相同：每盒一码' });
    expect(scanTraceCodes(code(9), { codes: [], packs: 2 }, new Set([code(9)]))).toMatchObject({ codes: [], left: code(9), problem: expect.stringContaining('已扫过') });
    expect(scanTraceCodes('7123', { codes: [code(1)], packs: 2 }, new Set())).toMatchObject({ codes: [code(1)], left: '7123', problem: expect.stringContaining('追溯码无效') });
  });

  it('names the codes a trace-code-used refusal lists, with their lines', () => {
    const items = [{ traceCodes: [code(1)] }, {}, { traceCodes: [code(2), code(3)] }];
    expect(soldCodes([{ path: 'body.items.2.traceCodes.1' }, { path: 'body.items.0.traceCodes.0' }, { path: 'body.code' }, { path: 'body.items.1.traceCodes.0' }], items))
      .toEqual([{ line: 2, code: code(3) }, { line: 0, code: code(1) }]);
  });

  it('a prescription owes what was prescribed less what was handed over; a dispense hands over what the settlement paid for, up to that', () => {
    const rx = { items: [{ drugCode: 'A', quantity: 3, dosage: 'x' }, { drugCode: 'B', quantity: 2, dosage: 'x' }], dispensed: [{ drugCode: 'A', quantity: 1 }] };
    expect(owingOf(rx)).toEqual([{ drugCode: 'A', quantity: 2 }, { drugCode: 'B', quantity: 2 }]);
    // Paid for everything owing (or more): a full dispense, the API's default.
    expect(dispenseItems(rx, { settlementId: 'st_9', items: [{ drugCode: 'A', quantity: 5 }, { drugCode: 'B', quantity: 2 }] as never })).toEqual({});
    // Less: exactly what was paid for; a drug not paid for is not handed over.
    expect(dispenseItems(rx, { settlementId: 'st_9', items: [{ drugCode: 'A', quantity: 1 }] as never })).toEqual({ items: [{ drugCode: 'A', quantity: 1 }] });
    expect(dispenseItems({ ...rx, dispensed: [{ drugCode: 'A', quantity: 3 }, { drugCode: 'B', quantity: 2 }] }, { settlementId: 'st_9', items: [] as never })).toEqual({});
  });

  it('a settlement that paid for more than a dispense handed over pays for the rest later, never for a pack twice', () => {
    const rx = { prescriptionId: 'rx_1', items: [{ drugCode: 'A', quantity: 3, dosage: 'x' }], dispensed: [{ drugCode: 'A', quantity: 1 }], dispenses: [{ settlementId: 'st_1', at: '2026-01-01T00:00:00.000Z', items: [{ drugCode: 'A', quantity: 1 }] }], settlementId: 'st_1' };
    const s1 = { settlementId: 'st_1', prescriptionId: 'rx_1', status: 'settled' as const, items: [{ drugCode: 'A', quantity: 3 }] as never as Settlement['items'] };
    expect(unspentOf(rx, s1)).toEqual([{ drugCode: 'A', quantity: 2 }]);
    expect(payableBy(rx, s1)).toEqual([{ drugCode: 'A', quantity: 2 }]);
    expect(dispenseItems(rx, s1)).toEqual({});
    // Offered for the rest (按此结算发药), and the counter charges nothing more.
    expect(undispensedSettlements(rx, [s1 as never])).toEqual([s1]);
    expect(owingUnpaid(rx, [s1])).toEqual([]);
    // Paid for one, handed over: spent.
    const s2 = { ...s1, items: [{ drugCode: 'A', quantity: 1 }] as never as Settlement['items'] };
    expect(undispensedSettlements(rx, [s2 as never])).toEqual([]);
    expect(owingUnpaid(rx, [s2])).toEqual([{ drugCode: 'A', quantity: 2 }]);
    // A prescription from before dispenses were listed: its settlement is spent.
    expect(unspentOf({ settlementId: 'st_1' }, s1)).toEqual([]);
  });

  it('what a counter may still charge: what is owed less what settlements not yet handed over against paid for', () => {
    const rx = { items: [{ drugCode: 'A', quantity: 3, dosage: 'x' }, { drugCode: 'B', quantity: 2, dosage: 'x' }], dispensed: [{ drugCode: 'A', quantity: 1 }] };
    expect(owingUnpaid(rx, [])).toEqual([{ drugCode: 'A', quantity: 2 }, { drugCode: 'B', quantity: 2 }]);
    // One paid A in part, another all of B: only the rest of A is left to charge.
    expect(owingUnpaid(rx, [{ settlementId: 'st_8', items: [{ drugCode: 'A', quantity: 1 }] as never }, { settlementId: 'st_9', items: [{ drugCode: 'B', quantity: 2 }] as never }])).toEqual([{ drugCode: 'A', quantity: 1 }]);
    // Paid for more than is owed: nothing.
    expect(owingUnpaid(rx, [{ settlementId: 'st_9', items: [{ drugCode: 'A', quantity: 5 }, { drugCode: 'B', quantity: 9 }] as never }])).toEqual([]);
  });
});

describe('labels', () => {
  it('every webhook event has a Chinese name (IT staff choose from them), and no label names an event that is not offered', () => {
    expect(webhookEventNames.filter((n) => !webhookEventLabel[n])).toEqual([]);
    expect(Object.keys(webhookEventLabel).filter((n) => !webhookEventNames.includes(n))).toEqual([]);
  });
});

describe('the access log, read for a complaint', () => {
  const entry = (at: string, user: string, resource = '/referrals/ref_01abc', action: 'read' | 'write' = 'read') => ({
    at, actor: { role: 'hospital' as const, institutionId: 'hosp-zjph', user }, action, resource, operation: action === 'read' ? 'listReferrals' : 'acceptReferral', requestId: `r-${at}`,
  });
  it('one row per run of the same person doing the same to the same record; a different act in between starts a new one', () => {
    const log = [
      entry('2026-12-01T12:02:00Z', 'hosp-zjph:rn-chen'), entry('2026-12-01T12:01:50Z', 'hosp-zjph:rn-chen'), entry('2026-12-01T12:01:40Z', 'hosp-zjph:rn-chen'),
      entry('2026-12-01T12:01:30Z', 'hosp-zjph:rn-chen', '/referrals/ref_01abc', 'write'),
      entry('2026-12-01T12:01:20Z', 'hosp-zjph:dr-zhou'),
      entry('2026-12-01T12:01:10Z', 'hosp-zjph:rn-chen'),
    ];
    const runs = accessRuns(log);
    expect(runs.map((r) => [r.length, r[0]!.at, r.at(-1)!.at])).toEqual([
      [3, '2026-12-01T12:02:00Z', '2026-12-01T12:01:40Z'], [1, '2026-12-01T12:01:30Z', '2026-12-01T12:01:30Z'],
      [1, '2026-12-01T12:01:20Z', '2026-12-01T12:01:20Z'], [1, '2026-12-01T12:01:10Z', '2026-12-01T12:01:10Z'],
    ]);
    // Nothing lost, nothing reordered.
    expect(runs.flat()).toEqual(log);

    // A polled list holding two of the person's records reads them in turn: one row each, not one per read.
    const polled = Array.from({ length: 8 }, (_, i) => entry(`2026-12-01T12:0${9 - Math.floor(i / 2)}:0${i % 2}Z`, 'hosp-zjph:rn-chen', i % 2 ? '/referrals/ref_02def' : '/referrals/ref_01abc'));
    const two = accessRuns(polled);
    expect(two.map((r) => [r[0]!.resource, r.length, r[0]!.at, r.at(-1)!.at])).toEqual([
      ['/referrals/ref_01abc', 4, '2026-12-01T12:09:00Z', '2026-12-01T12:06:00Z'],
      ['/referrals/ref_02def', 4, '2026-12-01T12:09:01Z', '2026-12-01T12:06:01Z'],
    ]);
    expect(two.flat().sort((a, b) => a.at.localeCompare(b.at))).toEqual([...polled].sort((a, b) => a.at.localeCompare(b.at)));
    // Someone else's entry, or a change, ends the stretch: what comes after is rows of its own.
    const broken = [polled[0]!, polled[1]!, entry('2026-12-01T12:08:30Z', 'hosp-zjph:dr-zhou'), polled[2]!, polled[3]!];
    expect(accessRuns(broken).map((r) => r.length)).toEqual([1, 1, 1, 1, 1]);
    // Changes are never folded: each write is its own row.
    const writes = [entry('2026-12-01T12:00:02Z', 'u', '/referrals/ref_01abc', 'write'), entry('2026-12-01T12:00:01Z', 'u', '/referrals/ref_01abc', 'write')];
    expect(accessRuns(writes).map((r) => r.length)).toEqual([1, 1]);
  });
});

describe('the enrolment file: what cannot be read, and the failed rows written back', () => {
  const id = (first17: string) => first17 + nationalIdCheckChar(first17);
  const header = '身份证号,姓名,手机号,区县,个人账户余额（元）';

  it('holds back a row with U+FFFD (a GBK file read as UTF-8) and names the column; a garbled header says the file is not UTF-8', () => {
    const p = readPeople([header, `${id('33010619450101100')},\ufffd\ufffd,,西湖区,1`, `${id('33010619500202200')},李红,,西湖区,1`].join('\r\n'));
    if (typeof p === 'string') throw new Error(p);
    expect(p.people.map((x) => x.row)).toEqual([3]);
    expect(p.errors).toEqual([{ row: 2, field: '姓名', message: expect.stringMatching(/^含无法识别的字符（乱码）：文件可能不是 UTF-8 编码（可能是 GBK），请在 Excel\/WPS 中另存为“CSV UTF-8”/) }]);
    expect(readPeople('\ufffd\ufffd\ufffd\ufffd,\ufffd\ufffd\r\n1,2')).toMatch(/^表头无法读取：文件可能不是 UTF-8 编码/);
    // A file that is UTF-8 but lacks a heading is told what is missing, not about its encoding.
    expect(readPeople('姓名,个人账户余额（元）\r\n王伟,1')).toMatch(/^首行须为表头/);
  });

  it('writeCsv writes what parseCsv reads back, cell for cell', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', '王', ',', '"', '\r', '\n', ' ', '\r\n') });
    fc.assert(fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 5 }), (rows) => {
      const read = parseCsv(writeCsv(rows));
      expect(read).toEqual({ ok: true, rows });
    }));
  });

  it('the failed rows keep the file\'s header and cells, in row order, with 原因 in its own column (the file\'s own 原因 column if it has one)', () => {
    const text = ['\ufeff身份证号,姓名,"备注, 其他"', '1,"王伟, 重复",x', '', '2,李红', '3,赵六,y,多出'].join('\r\n');
    const out = failedRowsCsv(text, new Map([[5, '整行：列数不符'], [2, '未提交：身份证号无效'], [4, '平台拒绝：手机号无效']]));
    expect(out.startsWith('\ufeff')).toBe(true);
    const read = parseCsv(out);
    expect(read).toEqual({ ok: true, rows: [
      ['身份证号', '姓名', '备注, 其他', '原因'],
      ['1', '王伟, 重复', 'x', '未提交：身份证号无效'],
      ['2', '李红', '', '平台拒绝：手机号无效'],
      ['3', '赵六', 'y', '多出', '整行：列数不符'],
    ] });
    // Uploaded again and failed again: its 原因 column is rewritten, not a second one added.
    const again = parseCsv(failedRowsCsv(out, new Map([[3, '结果未知（可能已登记）：网关错误']])));
    expect(again).toEqual({ ok: true, rows: [['身份证号', '姓名', '备注, 其他', '原因'], ['2', '李红', '', '结果未知（可能已登记）：网关错误']] });
  });
});

describe('forms: errors on paths the form has no field for', () => {
  it('are said above the form (under ""), with what is already there, from the schema and from the API', () => {
    const onForm = (path: string) => /^departments\.\d+\.code$/.test(path);
    const r = validate(institutionInput, { id: 'hosp-x', name: '医院', type: 'hospital', district: '西湖区', designated: true, departments: [{ code: 'A', name: '甲', dailyCapacity: 1 }, { code: 'A', name: '乙', dailyCapacity: 1 }] }, onForm);
    expect(r).toEqual({ ok: false, errors: { '': '科室编码不能重复' } });
    const api = new ApiError(400, { type: 'https://consortium.example/problems/validation-failed', title: 'Request is not valid', status: 400, errors: [{ path: 'body.departments', message: 'department codes must be unique' }] });
    expect(problemToFields(api, onForm)).toEqual({ '': '科室编码不能重复' });
    expect(aboveForm({ '': '网络异常', 'departments.0.code': '必填', departments: '科室编码不能重复' }, onForm)).toEqual({ '': '网络异常；科室编码不能重复', 'departments.0.code': '必填' });
    // A blank capacity is no number at all: 必填 on the field, not a capacity of 0.
    const blank = validate(institutionInput, { id: 'hosp-x', name: '医院', type: 'hospital', district: '西湖区', designated: true, departments: [{ code: 'A', name: '甲', dailyCapacity: undefined }] });
    expect(blank).toEqual({ ok: false, errors: { 'departments.0.dailyCapacity': '必填' } });
  });
});

describe("the province's today on a screen left open", () => {
  it('wakes at the province\'s midnight, or within a minute, whatever the machine\'s zone', () => {
    expect([nextDay('2026-03-14'), nextDay('2026-02-28'), nextDay('2028-02-28'), nextDay('2026-12-31')]).toEqual(['2026-03-15', '2026-03-01', '2028-02-29', '2027-01-01']);
    // 23:59:30 in Shanghai is 15:59:30 UTC: midnight is 30 s away.
    expect(untilNextCheck(Date.parse('2026-03-14T15:59:30Z'))).toBe(30_010);
    expect(untilNextCheck(Date.parse('2026-03-14T15:59:59.995Z'))).toBe(15);
    expect(untilNextCheck(Date.parse('2026-03-14T16:00:00Z'))).toBe(60_000);
    expect(untilNextCheck(Date.parse('2026-03-14T04:00:00Z'))).toBe(60_000);
  });
});

describe("a webhook delivery attempt's outcome, in Chinese", () => {
  const at = '2026-12-02T06:00:00.000Z';
  const said = (error: string) => attemptText({ at, error, durationMs: 10 } as Parameters<typeof attemptText>[0]);
  it('says every outcome the sender records (post.ts, url-guard.ts) without English words, an error code aside', () => {
    const outcomes = [
      'connection refused', 'connection reset', 'host unreachable', 'connection closed while sending', 'no answer within 5 s',
      'TLS: ERR_TLS_CERT_ALTNAME_INVALID', 'connection failed (EPROTO)', 'refused: his.example does not resolve',
      'refused: his.example did not resolve within 2000 ms',
      ...['10.0.0.1', '127.0.0.1', '169.254.169.254', 'fd00::1', '100.64.0.1', '224.0.0.1', '::7f00:1'].map((a) => `refused: his.example resolves to ${a}, ${refusedAddress(a)}`),
      `refused: 10.1.2.3 is ${refusedAddress('10.1.2.3')}`,
      // The sender checks the URL again on every attempt: one allowed once may be refused later.
      'refused: not a URL', 'refused: must be an https:// URL', 'refused: must not carry a user name or password',
    ];
    for (const error of outcomes) {
      // Host names, addresses and error codes stay as they are: IT staff look them up.
      const words = said(error).replace(/TLS|https:\/\/|his\.example|[\d.:a-f]+(?=[^\w]|$)|ERR_[A-Z_]+|EPROTO/g, '');
      expect(words, error).not.toMatch(/[A-Za-z]{3,}/);
    }
    expect(said('refused: his.example resolves to 10.0.0.1, a private address')).toBe('地址被拒绝：his.example 指向内网或本机地址');
    expect(said('connection failed (EPROTO)')).toBe('连接失败（EPROTO）');
    expect(attemptText({ at, statusCode: 503, durationMs: 10 } as Parameters<typeof attemptText>[0])).toBe('HTTP 503');
  });
});
