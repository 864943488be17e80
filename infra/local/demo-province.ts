// The demo province the local runtime seeds: a tertiary hospital and a secondary one, community
// clinics, designated pharmacies in two districts with stock, a drug catalog with categories A, B
// and C, and enrolled people with personal-account balances. Made up, but shaped like Hangzhou.
import { nationalIdCheckChar } from '../../schemas/common.ts';

export const DISTRICTS = { xihu: '西湖区', shangcheng: '上城区' } as const;

export const demoInstitutions = [
  {
    id: 'hosp-zjph', name: '浙江省人民医院', type: 'hospital', level: 'tertiary', district: DISTRICTS.shangcheng,
    location: { lat: 30.2635, lng: 120.1655 }, designated: true,
    departments: [
      { code: 'CARD', name: '心血管内科', dailyCapacity: 20 },
      { code: 'ENDO', name: '内分泌科', dailyCapacity: 15 },
      { code: 'RESP', name: '呼吸内科', dailyCapacity: 15 },
      { code: 'ORTH', name: '骨科', dailyCapacity: 10 },
      { code: 'NEUR', name: '神经内科', dailyCapacity: 8 },
    ],
  },
  {
    id: 'hosp-xihu', name: '杭州市西湖区人民医院', type: 'hospital', level: 'secondary', district: DISTRICTS.xihu,
    location: { lat: 30.2741, lng: 120.1301 }, designated: true,
    departments: [
      { code: 'CARD', name: '心血管内科', dailyCapacity: 6 },
      { code: 'ENDO', name: '内分泌科', dailyCapacity: 4 },
      { code: 'RESP', name: '呼吸内科', dailyCapacity: 6 },
    ],
  },
  {
    id: 'clinic-lingyin', name: '灵隐街道社区卫生服务中心', type: 'clinic', level: 'primary', district: DISTRICTS.xihu,
    location: { lat: 30.2420, lng: 120.1220 }, designated: true, leadHospitalId: 'hosp-zjph',
    departments: [{ code: 'GP', name: '全科', dailyCapacity: 40 }],
  },
  {
    id: 'clinic-beishan', name: '北山街道社区卫生服务中心', type: 'clinic', level: 'primary', district: DISTRICTS.xihu,
    location: { lat: 30.2630, lng: 120.1400 }, designated: true, leadHospitalId: 'hosp-zjph',
    departments: [{ code: 'GP', name: '全科', dailyCapacity: 40 }],
  },
  {
    id: 'clinic-hubin', name: '湖滨街道社区卫生服务中心', type: 'clinic', level: 'primary', district: DISTRICTS.shangcheng,
    location: { lat: 30.2590, lng: 120.1650 }, designated: true, leadHospitalId: 'hosp-zjph',
    departments: [{ code: 'GP', name: '全科', dailyCapacity: 40 }],
  },
  { id: 'ph-xihu-1', name: '西湖大药房文三路店', type: 'pharmacy', district: DISTRICTS.xihu, location: { lat: 30.2790, lng: 120.1390 }, designated: true },
  { id: 'ph-xihu-2', name: '民生药店古荡店', type: 'pharmacy', district: DISTRICTS.xihu, location: { lat: 30.2870, lng: 120.1150 }, designated: true },
  { id: 'ph-xihu-3', name: '九州大药房灵隐店', type: 'pharmacy', district: DISTRICTS.xihu, location: { lat: 30.2450, lng: 120.1240 }, designated: true },
  { id: 'ph-sc-1', name: '张同泰大药房清河坊店', type: 'pharmacy', district: DISTRICTS.shangcheng, location: { lat: 30.2430, lng: 120.1700 }, designated: true },
  { id: 'ph-sc-2', name: '方回春堂湖滨店', type: 'pharmacy', district: DISTRICTS.shangcheng, location: { lat: 30.2580, lng: 120.1640 }, designated: true },
  { id: 'ph-sc-3', name: '华东大药房望江店', type: 'pharmacy', district: DISTRICTS.shangcheng, location: { lat: 30.2410, lng: 120.1820 }, designated: true },
  { id: 'ph-private-1', name: '便民药店（非定点）', type: 'pharmacy', district: DISTRICTS.xihu, location: { lat: 30.2800, lng: 120.1380 }, designated: false },
] as const;

export const demoDrugs = [
  { drugCode: 'XC08CAA001', name: '苯磺酸氨氯地平片 5mg', category: 'A', unit: '盒' },
  { drugCode: 'XA10BAA001', name: '盐酸二甲双胍片 0.5g', category: 'A', unit: '盒' },
  // An antibiotic: never on a long prescription.
  { drugCode: 'XJ01CAA001', name: '阿莫西林胶囊 0.25g', category: 'A', unit: '盒', longTermAllowed: false },
  { drugCode: 'XC10AAA005', name: '阿托伐他汀钙片 20mg', category: 'A', unit: '盒' },
  { drugCode: 'XN02BEA001', name: '对乙酰氨基酚片 0.5g', category: 'A', unit: '盒' },
  { drugCode: 'XC09CAA001', name: '缬沙坦胶囊 80mg', category: 'B', unit: '盒' },
  { drugCode: 'XA10BHA001', name: '西格列汀片 100mg', category: 'B', unit: '盒' },
  { drugCode: 'XR03AKA001', name: '沙美特罗替卡松吸入粉雾剂', category: 'B', unit: '支' },
  { drugCode: 'XB01ACA001', name: '氯吡格雷片 75mg', category: 'B', unit: '盒' },
  { drugCode: 'ZB01BAA001', name: '复方丹参滴丸', category: 'B', unit: '瓶' },
  { drugCode: 'XA11CCA001', name: '维生素D滴剂', category: 'C', unit: '盒' },
  { drugCode: 'XD11AXA001', name: '医用修复敷料', category: 'C', unit: '盒' },
] as const;

/** Stock per pharmacy: every pharmacy stocks the common drugs; some lack a few (routing has choices to make). */
export function demoStock(pharmacyId: string): Array<{ drugCode: string; quantity: number }> {
  const missing: Record<string, string[]> = {
    'ph-xihu-2': ['XR03AKA001', 'XB01ACA001'],
    'ph-sc-3': ['XA10BHA001'],
  };
  return demoDrugs
    .filter((d) => !(missing[pharmacyId] ?? []).includes(d.drugCode))
    .map((d, i) => ({ drugCode: d.drugCode, quantity: 20 + ((i * 7 + pharmacyId.length * 3) % 40) }));
}

const surnames = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐';
const givenNames = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀英', '霞', '平', '刚', '桂英', '建华', '国强'];

/** A valid resident ID: area code, birth date, sequence, MOD 11-2 check character. */
export function demoNationalId(area: string, birth: string, seq: number): string {
  const first17 = `${area}${birth}${String(seq).padStart(3, '0')}`;
  return first17 + nationalIdCheckChar(first17);
}

export const demoPeople = Array.from({ length: 24 }, (_, i) => {
  const inXihu = i % 2 === 0;
  const year = 1945 + ((i * 3) % 50);
  const birth = `${year}${String((i % 12) + 1).padStart(2, '0')}${String((i % 27) + 1).padStart(2, '0')}`;
  return {
    nationalId: demoNationalId(inXihu ? '330106' : '330102', birth, 100 + i),
    name: surnames[i]! + givenNames[i]!,
    phone: `13${String(800000000 + i * 7919).padStart(9, '0')}`,
    district: inXihu ? DISTRICTS.xihu : DISTRICTS.shangcheng,
    // A spread of balances: some people's accounts cannot cover a typical purchase.
    personalAccountFen: [250_000, 120_000, 80_000, 30_000, 5_000, 0][i % 6]!,
    annualPooledUsedFen: i % 5 === 0 ? 100_000 : 0,
  };
});
