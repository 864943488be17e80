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

describe('console settings', () => {
  const nx = () => JSON.parse(readFileSync(join(import.meta.dirname, '../../infra/provinces/NX.json'), 'utf8'));
  const zj = () => JSON.parse(readFileSync(join(import.meta.dirname, '../../infra/provinces/ZJ.json'), 'utf8'));

  it('aws-cn needs an ICP-licensed domain, its licence number and an IAM server certificate, and says so', () => {
    const { console: _c, ...withoutConsole } = nx();
    expect(() => parseProvinceFile('/x/NX.json', JSON.stringify(withoutConsole))).toThrow(/console\.domainName: required in aws-cn[\s\S]*console\.icpLicense[\s\S]*console\.certificate: required in aws-cn.*iamCertificateId/);
    const acm = { ...nx(), console: { ...nx().console, certificate: { acmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' } } };
    expect(() => parseProvinceFile('/x/NX.json', JSON.stringify(acm))).toThrow(/console\.certificate: required in aws-cn/);
  });

  it('aws takes no console domain, or one with an ACM certificate in us-east-1', () => {
    expect(parseProvinceFile('/x/ZJ.json', JSON.stringify(zj())).console).toMatchObject({ clientId: 'consortium-console', displayName: '浙江省' });
    const half = { ...zj(), console: { domainName: 'console.zj.example.com' } };
    expect(() => parseProvinceFile('/x/ZJ.json', JSON.stringify(half))).toThrow(/console\.certificate: console\.domainName and console\.certificate go together/);
    const wrongRegion = { ...zj(), console: { domainName: 'console.zj.example.com', certificate: { acmCertificateArn: 'arn:aws:acm:ap-east-1:123456789012:certificate/abc' } } };
    expect(() => parseProvinceFile('/x/ZJ.json', JSON.stringify(wrongRegion))).toThrow(/us-east-1/);
  });
});
