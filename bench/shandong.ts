// A province of Shandong's shape, generated (deterministic, seeded PRNG): 16 prefecture cities and
// their 136 county-level districts, 20,025 designated pharmacies and 7,614 designated institutions
// (the August 2020 figures), and as many enrolled people as asked. Names, places and people are made
// up; the counts, the spread over districts and the shape of hospitals (levels, departments,
// capacity) and consortia are what routing and the indexes feel.
import { demoDrugs, demoNationalId } from '../infra/local/demo-province.ts';

export const SHANDONG = { pharmacies: 20_025, institutions: 7_614, districts: 136, activatedVouchers: 16_000_000 } as const;

/** Cities with their number of county-level districts (2020) and a relative population weight. */
const CITIES: Array<[name: string, districts: number, weight: number, lat: number, lng: number]> = [
  ['济南', 12, 9.2, 36.65, 117.12], ['青岛', 10, 10.1, 36.07, 120.38], ['淄博', 8, 4.7, 36.81, 118.05], ['枣庄', 6, 3.9, 34.81, 117.32],
  ['东营', 5, 2.2, 37.43, 118.67], ['烟台', 11, 7.1, 37.46, 121.45], ['潍坊', 12, 9.4, 36.71, 119.16], ['济宁', 11, 8.4, 35.41, 116.59],
  ['泰安', 6, 5.5, 36.2, 117.09], ['威海', 4, 2.9, 37.51, 122.12], ['日照', 4, 3.0, 35.42, 119.53], ['临沂', 12, 11.0, 35.1, 118.36],
  ['德州', 11, 5.6, 37.43, 116.36], ['聊城', 8, 6.0, 36.46, 115.99], ['滨州', 7, 3.9, 37.38, 117.97], ['菏泽', 9, 8.8, 35.23, 115.48],
];

/** The departments hospitals route referrals by; a tertiary hospital has them all. */
export const DEPARTMENTS: Array<[code: string, name: string]> = [
  ['CARD', '心血管内科'], ['ENDO', '内分泌科'], ['RESP', '呼吸内科'], ['NEUR', '神经内科'], ['GAST', '消化内科'], ['NEPH', '肾内科'],
  ['ORTH', '骨科'], ['GSUR', '普外科'], ['PED', '儿科'], ['OBGY', '妇产科'], ['ONC', '肿瘤科'], ['OPH', '眼科'], ['ENT', '耳鼻喉科'],
  ['DERM', '皮肤科'], ['PSY', '精神科'], ['REHAB', '康复医学科'], ['GER', '老年医学科'], ['INF', '感染科'], ['URO', '泌尿外科'], ['EMER', '急诊科'],
];

export interface District {
  name: string;
  city: string;
  /** Six-digit administrative code of the made-up district (37 = Shandong). */
  code: string;
  lat: number;
  lng: number;
}

export interface Institution {
  id: string;
  name: string;
  type: 'clinic' | 'hospital' | 'pharmacy';
  level?: 'primary' | 'secondary' | 'tertiary';
  district: string;
  location: { lat: number; lng: number };
  designated: true;
  departments?: Array<{ code: string; name: string; dailyCapacity: number }>;
  leadHospitalId?: string;
}

export interface Province {
  districts: District[];
  pharmacies: Institution[];
  /** Hospitals first, then clinics (a clinic names its lead hospital, registered before it). */
  institutions: Institution[];
}

/** mulberry32: small, fast and good enough for shaping test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `total` spread over `weights`, every share an integer, summing exactly (largest remainder). */
function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const shares = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  const left = total - shares.reduce((a, b) => a + b, 0);
  for (let k = 0; k < left; k++) shares[order[k]![1]]! += 1;
  return shares;
}

export function shandong(seed = 37): Province {
  const rnd = prng(seed);
  const districts: District[] = [];
  const weights: number[] = [];
  CITIES.forEach(([city, n, weight, lat, lng], c) => {
    for (let d = 0; d < n; d++) {
      districts.push({ name: `${city}市第${d + 1}区`, city, code: `37${String(c + 1).padStart(2, '0')}${String(d + 1).padStart(2, '0')}`, lat: lat + (rnd() - 0.5) * 0.8, lng: lng + (rnd() - 0.5) * 0.8 });
      // Urban districts are denser: the first of each city weighs more.
      weights.push((weight / n) * (d < 2 ? 1.8 : 0.6 + rnd() * 0.8));
    }
  });
  const near = (d: District) => ({ lat: +(d.lat + (rnd() - 0.5) * 0.2).toFixed(5), lng: +(d.lng + (rnd() - 0.5) * 0.2).toFixed(5) });

  const pharmacies: Institution[] = [];
  apportion(SHANDONG.pharmacies, weights).forEach((n, i) => {
    const d = districts[i]!;
    for (let k = 0; k < n; k++) pharmacies.push({ id: `sd-ph-${d.code}-${k}`, name: `${d.name}药房${k + 1}`, type: 'pharmacy', district: d.name, location: near(d), designated: true });
  });

  // 7,614 institutions: about one in five a hospital (a tertiary one or two per city seat, secondary
  // ones in every district, primary ones) and the rest community clinics, each in a consortium led
  // by a hospital of its city.
  const hospitals: Institution[] = [];
  const clinics: Institution[] = [];
  const perDistrict = apportion(SHANDONG.institutions, weights);
  const cityLeads = new Map<string, string[]>();
  perDistrict.forEach((n, i) => {
    const d = districts[i]!;
    const nHospitals = Math.max(2, Math.round(n * 0.2));
    for (let k = 0; k < nHospitals; k++) {
      const level = k === 0 && d.name.endsWith('第1区') ? 'tertiary' : k < 3 ? 'secondary' : 'primary';
      const count = level === 'tertiary' ? DEPARTMENTS.length : level === 'secondary' ? 8 + Math.floor(rnd() * 6) : 2 + Math.floor(rnd() * 3);
      const depts = level === 'tertiary' ? DEPARTMENTS : [...DEPARTMENTS].sort(() => rnd() - 0.5).slice(0, count);
      const id = `sd-hosp-${d.code}-${k}`;
      hospitals.push({
        id, name: `${d.name}医院${k + 1}`, type: 'hospital', level, district: d.name, location: near(d), designated: true,
        departments: depts.map(([code, name]) => ({ code, name, dailyCapacity: (level === 'tertiary' ? 40 : level === 'secondary' ? 12 : 4) + Math.floor(rnd() * 20) })),
      });
      if (level !== 'primary') cityLeads.set(d.city, [...(cityLeads.get(d.city) ?? []), id]);
    }
    for (let k = nHospitals; k < n; k++) {
      clinics.push({
        id: `sd-clinic-${d.code}-${k}`, name: `${d.name}社区卫生服务中心${k + 1}`, type: 'clinic', level: 'primary', district: d.name, location: near(d), designated: true,
        departments: [{ code: 'GP', name: '全科', dailyCapacity: 20 + Math.floor(rnd() * 40) }, ...(rnd() < 0.5 ? [{ code: 'REHAB', name: '康复医学科', dailyCapacity: 10 }] : [])],
      });
    }
  });
  for (const c of clinics) {
    const leads = cityLeads.get(districts.find((d) => d.name === c.district)!.city)!;
    c.leadHospitalId = leads[Math.floor(rnd() * leads.length)];
  }
  return { districts, pharmacies, institutions: [...hospitals, ...clinics] };
}

/** A pharmacy's shelf: most of the catalog, plenty of each (routing is measured, not stock-outs). */
export function shandongStock(pharmacyIndex: number): Array<{ drugCode: string; quantity: number }> {
  return demoDrugs.filter((_, i) => (i + pharmacyIndex) % 5 !== 0 || i === 0).map((d, i) => ({ drugCode: d.drugCode, quantity: 500 + ((pharmacyIndex * 13 + i * 7) % 500) }));
}

/** The n-th enrolled person of the province: districts in turn, each person's ID unique (birth day and sequence from n). */
export function shandongPerson(p: Province, n: number) {
  const d = p.districts[n % p.districts.length]!;
  const m = Math.floor(n / p.districts.length);
  const birth = new Date(Date.UTC(1950, 0, 1) + Math.floor(m / 1000) * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
  return { nationalId: demoNationalId(d.code, birth, m % 1000), name: `鲁民${n}`, district: d.name, personalAccountFen: 50_000 + (n % 100) * 1_000 };
}
