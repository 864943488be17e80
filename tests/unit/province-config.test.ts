import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProvinces, parseProvinceFile } from '../../infra/provinces/load.ts';
import { mainlandProvinceCodes, mainlandRegions } from '../../schemas/province.ts';

const nxText = readFileSync(join(import.meta.dirname, '../../infra/provinces/NX.json'), 'utf8');
const nx = JSON.parse(nxText);
/** The config of another province, as infra/provinces/<code>.json would hold it. */
const as = (code: string, overrides: Record<string, unknown> = {}) => [`/x/${code}.json`, JSON.stringify({ ...nx, code, ...overrides })] as const;
const issues = (code: string, overrides: Record<string, unknown>) => {
  try {
    parseProvinceFile(...as(code, overrides));
    return 'accepted';
  } catch (err) {
    return (err as Error).message;
  }
};

describe('province configs', () => {
  it('every config in infra/provinces parses; every one is a mainland province in aws-cn', () => {
    const all = loadProvinces();
    expect(all.map((p) => p.code)).toEqual(expect.arrayContaining(['NX', 'ZJ']));
    for (const p of all) {
      expect(mainlandProvinceCodes).toContain(p.code);
      expect([p.code, p.partition, mainlandRegions.includes(p.region as never)]).toEqual([p.code, 'aws-cn', true]);
    }
  });

  it('lists the 31 mainland provincial-level divisions, and not Hong Kong, Macao or Taiwan', () => {
    expect(new Set(mainlandProvinceCodes).size).toBe(31);
    for (const code of ['HK', 'MO', 'TW']) expect(mainlandProvinceCodes).not.toContain(code);
  });

  it('refuses a mainland province outside the aws-cn partition or its two regions', () => {
    for (const code of mainlandProvinceCodes) {
      expect([code, issues(code, { partition: 'aws', region: 'ap-east-1' })]).toEqual([code, expect.stringMatching(/partition: .*mainland province.*aws-cn/)]);
      expect(issues(code, { partition: 'aws-cn', region: 'cn-north-1' })).toBe('accepted');
      expect(issues(code, { partition: 'aws-cn', region: 'cn-northwest-1' })).toBe('accepted');
    }
    expect(issues('ZJ', { partition: 'aws', region: 'cn-north-1' })).toMatch(/partition: /);
    expect(issues('ZJ', { partition: 'aws-cn', region: 'cn-east-1' })).toMatch(/region: region cn-east-1 is not in partition aws-cn/);
  });

  it('lets Hong Kong, Macao and Taiwan use the aws partition; refuses a code that is no province', () => {
    // (Without NX's China console settings: an ICP domain and an IAM certificate are aws-cn's.)
    for (const code of ['HK', 'MO', 'TW']) expect(issues(code, { partition: 'aws', region: 'ap-east-1', console: { displayName: code } })).toBe('accepted');
    expect(issues('HK', { partition: 'aws', region: 'cn-north-1' })).toMatch(/region cn-north-1 is not in partition aws/);
    expect(issues('ZHJ', { partition: 'aws', region: 'ap-east-1' })).toMatch(/code: ZHJ is not an ISO 3166-2:CN province code/);
  });

  it('names the file and the field of a mistake', () => {
    const bad = { ...nx, region: 'eu-west-1', policy: { ...nx.policy, annualCapFen: -1 } };
    expect(() => parseProvinceFile('/x/NX.json', JSON.stringify(bad))).toThrow(/\/x\/NX\.json[\s\S]*policy\.annualCapFen[\s\S]*region/);
  });

  it('requires the code to match the file name', () => {
    expect(() => parseProvinceFile('/x/GS.json', nxText)).toThrow(/must match the file name/);
  });

  it("a large province's capacity: warm throughput above DynamoDB's floors, reserved concurrency of catalog functions only", () => {
    const shandong = { warmThroughput: { readUnitsPerSecond: 16_000, writeUnitsPerSecond: 11_000 }, reservedConcurrency: { audit: 10, timelineProjector: 10 } };
    expect(issues('SD', { capacity: shandong })).toBe('accepted');
    expect(parseProvinceFile(...as('SD', { capacity: shandong })).capacity).toEqual(shandong);
    expect(parseProvinceFile(...as('GS')).capacity).toEqual({});
    // Below what a new table serves anyway: a mistake, not a setting.
    expect(issues('SD', { capacity: { warmThroughput: { readUnitsPerSecond: 16_000, writeUnitsPerSecond: 1_000 } } })).toMatch(/capacity\.warmThroughput\.writeUnitsPerSecond/);
    expect(issues('SD', { capacity: { reservedConcurrency: { audit: 0 } } })).toMatch(/capacity\.reservedConcurrency\.audit/);
    expect(issues('SD', { capacity: { reservedConcurrency: { audit: 10, auditor: 10 } } })).toMatch(/\/x\/SD\.json[\s\S]*capacity\.reservedConcurrency: no function auditor/);
  });

  it('referral SLA: one figure for every urgency, or one each, never longer for the more urgent', () => {
    const sla = (referralSlaHours: unknown) => parseProvinceFile(...as('NX', { referralSlaHours })).referralSlaHours;
    expect(sla(24)).toEqual({ routine: 24, urgent: 24, emergency: 24 });
    expect(sla({ routine: 24, urgent: 4, emergency: 1 })).toEqual({ routine: 24, urgent: 4, emergency: 1 });
    expect(issues('NX', { referralSlaHours: { routine: 24, urgent: 4, emergency: 6 } })).toMatch(/referralSlaHours[\s\S]*emergency <= urgent <= routine/);
    expect(issues('NX', { referralSlaHours: { routine: 24, urgent: 4 } })).toMatch(/referralSlaHours/);
  });

  it('a new file is a new province', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prov-'));
    writeFileSync(join(dir, 'GS.json'), JSON.stringify({ ...nx, code: 'GS', name: 'Gansu' }));
    expect(loadProvinces(dir).map((p) => p.code)).toEqual(['GS']);
  });

  it('the aws-partition test fixture is not in infra/provinces (not deployable)', () => {
    const fixture = loadProvinces(join(import.meta.dirname, '../fixtures/provinces'));
    expect(fixture.map((p) => [p.code, p.partition])).toEqual([['HK', 'aws']]);
    expect(loadProvinces().map((p) => p.code)).not.toContain('HK');
  });
});

describe('console settings', () => {
  const nx = () => JSON.parse(readFileSync(join(import.meta.dirname, '../../infra/provinces/NX.json'), 'utf8'));
  // The aws partition: the HK test fixture (every deployable province is in aws-cn).
  const zj = () => JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/provinces/HK.json'), 'utf8'));

  it('aws-cn needs an ICP-licensed domain, its licence number and an IAM server certificate, and says so', () => {
    const { console: _c, ...withoutConsole } = nx();
    expect(() => parseProvinceFile('/x/NX.json', JSON.stringify(withoutConsole))).toThrow(/console\.domainName: required in aws-cn[\s\S]*console\.icpLicense[\s\S]*console\.certificate: required in aws-cn.*iamCertificateId/);
    const acm = { ...nx(), console: { ...nx().console, certificate: { acmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' } } };
    expect(() => parseProvinceFile('/x/NX.json', JSON.stringify(acm))).toThrow(/console\.certificate: required in aws-cn/);
  });

  it('aws takes no console domain, or one with an ACM certificate in us-east-1', () => {
    expect(parseProvinceFile('/x/HK.json', JSON.stringify(zj())).console).toMatchObject({ clientId: 'consortium-console' });
    const half = { ...zj(), console: { domainName: 'console.hk.example.com' } };
    expect(() => parseProvinceFile('/x/HK.json', JSON.stringify(half))).toThrow(/console\.certificate: console\.domainName and console\.certificate go together/);
    const wrongRegion = { ...zj(), console: { domainName: 'console.hk.example.com', certificate: { acmCertificateArn: 'arn:aws:acm:ap-east-1:123456789012:certificate/abc' } } };
    expect(() => parseProvinceFile('/x/HK.json', JSON.stringify(wrongRegion))).toThrow(/us-east-1/);
  });
});

describe('webhook settings', () => {
  it('default to the Standard Webhooks schedule and no host allowed over http', () => {
    expect(parseProvinceFile(...as('NX')).webhooks).toEqual({ allowedHosts: [], timeoutSeconds: 5, retryDelaysSeconds: [5, 300, 1800, 7200, 18000, 36000, 36000] });
  });

  it('refuse a deployed province that retries for less than 24 hours, or waits longer than 5 s for an answer', () => {
    expect(issues('NX', { webhooks: { retryDelaysSeconds: [60, 600, 3600] } })).toMatch(/webhooks\.retryDelaysSeconds: retries span 4260 s: a deployed province retries webhook deliveries for at least 24 h/);
    expect(issues('NX', { webhooks: { retryDelaysSeconds: [39600, 39600, 7200] } })).toBe('accepted');
    expect(issues('NX', { webhooks: { timeoutSeconds: 10 } })).toMatch(/webhooks\.timeoutSeconds/);
  });
});
