// A card reader or a barcode scanner types a whole value and presses Enter within a frame: the
// screen must act on everything it typed (TanStack's useMutation used to run the render before the
// last keystroke's, so the ID went out one digit short), and a pasted value's spaces are not part of it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPeople } from '../../infra/local/demo-province.ts';
import { login, newPage, people, startDesk, textOf, type Desk } from './support.ts';

let desk: Desk;
beforeAll(async () => {
  desk = await startDesk();
});
afterAll(() => desk?.stop());

const poll = { timeout: 15_000, interval: 200 };

describe('an ID read by a card reader, Enter at once', () => {
  it('finds the person at the operator\'s 个人记录, each of five times, a pasted space or not', async () => {
    const { page } = await newPage(desk);
    await login(page, desk.rt.url, people.operator);
    await page.getByRole('link', { name: '个人记录' }).click();
    const box = page.getByLabel('身份证号');
    const card = page.getByRole('region', { name: '查询对象' });
    for (const [i, person] of demoPeople.slice(0, 5).entries()) {
      // The whole ID in one input event, then Enter: faster than any reader.
      await box.fill(i % 2 ? ` ${person.nationalId} ` : person.nationalId);
      await box.press('Enter');
      await expect.poll(textOf(card), poll).toContain(person.name);
      expect(await page.getByText('身份证号无效').count()).toBe(0);
    }
  });

  it('finds the patient at the clinic\'s 接诊 the same way', async () => {
    const { page } = await newPage(desk);
    await login(page, desk.rt.url, people.gp);
    const box = page.getByLabel('身份证号');
    const card = page.getByRole('region', { name: '患者' });
    // Enter before the card is read: asked for the ID, not told that nothing is an invalid one.
    await box.press('Enter');
    await expect.poll(textOf(page.locator('.field.invalid')), poll).toContain('请输入身份证号，或读卡');
    for (const person of demoPeople.slice(5, 8)) {
      await box.fill(person.nationalId);
      await box.press('Enter');
      await expect.poll(textOf(card), poll).toContain(person.name);
    }
  });
});

describe('every screen', () => {
  it("takes useMutation from lib/mutation.ts, never TanStack's own (whose functions lag a render)", () => {
    const src = join(import.meta.dirname, '../../console/src');
    const direct = (readdirSync(src, { recursive: true }) as string[])
      .filter((f) => /\.tsx?$/.test(f) && f !== join('lib', 'mutation.ts'))
      .filter((f) => /import \{[^}]*\buseMutation\b[^}]*\} from '@tanstack\/preact-query'/.test(readFileSync(join(src, f), 'utf8')));
    expect(direct).toEqual([]);
  });
});
