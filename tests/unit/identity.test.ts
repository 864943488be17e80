// The identity check of activation and family binding: a typed name against the enrolled one.
import { describe, expect, it } from 'vitest';
import { sameName } from '../../functions/vouchers/domain.ts';

describe('a typed name is the enrolled one', () => {
  it('whatever the app did to whitespace, composition, width or the middle dot', () => {
    const same: Array<[string, string]> = [
      ['王伟', ' 王 伟 '],
      ['José García', 'Jose\u0301 Garci\u0301a'], // composed vs decomposed accents
      ['阿卜杜拉·艾山', '阿卜杜拉・艾山'], // U+00B7 vs the katakana middle dot of Japanese IMEs
      ['阿卜杜拉·艾山', '阿卜杜拉•艾山'],
      ['阿卜杜拉·艾山', '阿卜杜拉．艾山'], // full-width full stop
      ['阿卜杜拉·艾山', '阿卜杜拉･艾山'], // half-width katakana middle dot
      ['ＬＩ　Ｍｉｎｇ', 'LI Ming'], // full-width letters and space
    ];
    for (const [enrolled, typed] of same) expect([enrolled, typed, sameName(enrolled, typed)]).toEqual([enrolled, typed, true]);
  });

  it('but not another name', () => {
    const different: Array<[string, string]> = [
      ['王伟', '王玮'],
      ['阿卜杜拉·艾山', '阿卜杜拉艾山'], // the dot separates; leaving it out is another spelling
      ['José', 'Jose'],
      ['王伟', ''],
    ];
    for (const [enrolled, typed] of different) expect([enrolled, typed, sameName(enrolled, typed)]).toEqual([enrolled, typed, false]);
  });
});
