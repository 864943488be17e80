import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProvinces, parseProvinceFile } from '../../infra/provinces/load.ts';

describe('province configs', () => {
  it('every config in infra/provinces parses, one in each partition', () => {
    const all = loadProvinces();
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(new Set(all.map((p) => p.partition))).toEqual(new Set(['aws', 'aws-cn']));
  });

  it('names the file and the field of a mistake', () => {
    const good = JSON.parse(readFileSync(join(import.meta.dirname, '../../infra/provinces/NX.json'), 'utf8'));
    const bad = { ...good, region: 'eu-west-1', policy: { ...good.policy, annualCapFen: -1 } };
    expect(() => parseProvinceFile('/x/NX.json', JSON.stringify(bad))).toThrow(/\/x\/NX\.json[\s\S]*policy\.annualCapFen[\s\S]*region/);
  });

  it('requires the code to match the file name', () => {
    const good = readFileSync(join(import.meta.dirname, '../../infra/provinces/NX.json'), 'utf8');
    expect(() => parseProvinceFile('/x/GS.json', good)).toThrow(/must match the file name/);
  });

  it('a new file is a new province', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prov-'));
    const nx = JSON.parse(readFileSync(join(import.meta.dirname, '../../infra/provinces/NX.json'), 'utf8'));
    writeFileSync(join(dir, 'GS.json'), JSON.stringify({ ...nx, code: 'GS', name: 'Gansu' }));
    expect(loadProvinces(dir).map((p) => p.code)).toEqual(['GS']);
  });
});
