import { describe, expect, it } from 'vitest';
import { isValidNationalId, maskNationalId, maskPhone, nationalId, nationalIdCheckChar } from '../../schemas/common.ts';
import { demoNationalId, demoPeople } from '../../infra/local/demo-province.ts';

describe('national ID (GB 11643, ISO 7064 MOD 11-2)', () => {
  it('accepts published valid examples, including an X check character', () => {
    expect(isValidNationalId('11010519491231002X')).toBe(true);
    expect(isValidNationalId('440524188001010014')).toBe(true);
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
