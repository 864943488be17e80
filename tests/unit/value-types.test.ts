import { describe, expect, it } from 'vitest';
import { freeText, isValidNationalId, maskNationalId, maskPhone, nationalId, nationalIdCheckChar, nationalIdFault } from '../../schemas/common.ts';
import { demoNationalId, demoPeople } from '../../infra/local/demo-province.ts';

describe('national ID (GB 11643, ISO 7064 MOD 11-2)', () => {
  it('accepts published valid examples, including an X check character', () => {
    expect(isValidNationalId('11010519491231002X')).toBe(true);
    expect(isValidNationalId('440524198001010013')).toBe(true);
  });

  it('rejects a day that does not exist, one before 1900 or after today in the province, and an area that is no province', () => {
    const at = new Date('2026-12-01T15:59:59Z'); // 23:59:59 on 1 December in Shanghai
    expect(isValidNationalId(demoNationalId('330106', '19800230', 901), at)).toBe(false); // 30 February
    expect(isValidNationalId(demoNationalId('330106', '19000229', 901), at)).toBe(false); // 1900 was no leap year
    expect(isValidNationalId(demoNationalId('330106', '20000229', 901), at)).toBe(true); // 2000 was
    expect(isValidNationalId(demoNationalId('330106', '18991231', 901), at)).toBe(false);
    expect(isValidNationalId(demoNationalId('330106', '20261201', 901), at)).toBe(true); // born today
    expect(isValidNationalId(demoNationalId('330106', '20261202', 901), at)).toBe(false); // tomorrow in Shanghai
    expect(isValidNationalId(demoNationalId('330106', '20261202', 901), new Date('2026-12-01T16:00:00Z'))).toBe(true); // today from Shanghai's midnight (16:00 UTC)
    expect(isValidNationalId(demoNationalId('999999', '19800101', 901), at)).toBe(false);
    expect(isValidNationalId(demoNationalId('830000', '19800101', 901), at)).toBe(true); // a Taiwan resident's residence permit
    expect(isValidNationalId(demoNationalId('933840', '19800101', 901), at)).toBe(true); // a foreigner's permanent residence ID, issued in Zhejiang
    expect(isValidNationalId(demoNationalId('999840', '19800101', 901), at)).toBe(false); // …issued in no province
    expect(nationalIdFault(demoNationalId('999999', '19800230', 901), at)).toBe('area');
    expect(nationalIdFault(demoNationalId('330106', '19800230', 901), at)).toBe('birth');
  });

  it('rejects a wrong check character, bad dates, wrong lengths and non-digits', () => {
    expect(isValidNationalId('110105194912310021')).toBe(false); // check should be X
    expect(isValidNationalId('110105194913310025')).toBe(false); // month 13
    expect(isValidNationalId('11010519491231002')).toBe(false);
    expect(isValidNationalId('11010519491231002XX')).toBe(false);
    expect(isValidNationalId('1101051949123100AX')).toBe(false);
  });

  it('computes the check character of every position weight correctly', () => {
    // Changing any one of the first 17 digits must change the check character (weights are non-zero mod 11).
    const base = '11010519491231002';
    for (let i = 0; i < 17; i++) {
      const d = (Number(base[i]) + 1) % 10;
      const changed = base.slice(0, i) + d + base.slice(i + 1);
      expect(nationalIdCheckChar(changed)).not.toBe(nationalIdCheckChar(base));
    }
  });

  it('normalises a lower-case x through the schema', () => {
    expect(nationalId.parse('11010519491231002x')).toBe('11010519491231002X');
  });

  it('masks to 3 + 4 visible characters, phones to 3 + 4', () => {
    expect(maskNationalId('11010519491231002X')).toBe('110***********002X');
    expect(maskPhone('13800138000')).toBe('138****8000');
  });

  it('seeds only valid IDs for the demo province', () => {
    expect(demoPeople.every((p) => isValidNationalId(p.nationalId))).toBe(true);
    expect(isValidNationalId(demoNationalId('330106', '19800101', 7))).toBe(true);
  });
});

describe('free text (names, reasons, plans)', () => {
  const name = freeText(64);
  const reason = freeText(500, { multiline: true });
  it('takes what people type: Chinese, Latin, emoji (a surrogate pair), line breaks where text may span lines', () => {
    expect(name.parse('  王伟 ')).toBe('王伟');
    expect(name.parse('Zhang San-Li')).toBe('Zhang San-Li');
    expect(reason.parse('胸闷三天😀\n心电图：ST段改变')).toBe('胸闷三天😀\n心电图：ST段改变');
  });
  it('refuses NUL and other control characters, bidirectional overrides and unpaired surrogates', () => {
    for (const bad of ['王\u0000伟', '王\u0007伟', 'abc\u202Edcba', 'x\u2066y', 'a\uD800b', 'a\uDC00', '\uD83D', '王\n伟']) {
      expect(name.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    for (const bad of ['原因\u0000', '\u202E反向', '半个\uD83D']) expect(reason.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    expect(name.safeParse('\u202E').error?.issues[0]?.message).toContain('bidirectional');
  });
});
