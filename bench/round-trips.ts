// DynamoDB commands sent per API request, per route: the local gateway counts the commands each
// request's function sends (x-local-dynamodb-calls). One request of each route, in a realistic order.
import { randomUUID } from 'node:crypto';
import { demoNationalId } from '../infra/local/demo-province.ts';
import type { Runtime } from '../infra/local/runtime.ts';
import { routes } from '../schemas/routes.ts';
import { api } from './lib.ts';

export interface RoundTripRow {
  route: string;
  status: number;
  dynamoCalls: number | string;
  itemsRead: number | string;
}

type Call = () => Promise<{ status: number; dynamoCalls: number; itemsRead: number }>;

/** `run`: a different person each time it runs against the same table. */
export async function benchRoundTrips(rt: Runtime, run = 0): Promise<RoundTripRow[]> {
  const t = {
    operator: await rt.token('operator'),
    channel: await rt.token('channel'),
    pharmacy: await rt.token('pharmacy', 'ph-xihu-1'),
    clinic: await rt.token('clinic', 'clinic-lingyin'),
    hospital: await rt.token('hospital', 'hosp-zjph'),
  };
  const person = { nationalId: demoNationalId('330108', '19900101', 1 + run), name: '往返', district: '西湖区', personalAccountFen: 100_000 };
  const state: Record<string, string> = {};
  const scenario: Array<[string, Call]> = [
    ['getHealth', () => api(rt, t.operator, 'GET', '/health')],
    ['registerInstitution', () => api(rt, t.operator, 'POST', '/institutions', { id: `clinic-rt-${randomUUID().slice(0, 8)}`, name: '往返', type: 'clinic', district: '西湖区', designated: true })],
    ['getInstitution', () => api(rt, t.clinic, 'GET', '/institutions/hosp-zjph')],
    ['listInstitutions', () => api(rt, t.clinic, 'GET', '/institutions?type=pharmacy')],
    ['enrol', async () => {
      const r = await api(rt, t.operator, 'POST', '/enrollments', { people: [person] });
      state.personId = r.body.personIds[0];
      return r;
    }],
    ['getEnrolment', () => api(rt, t.operator, 'GET', `/enrollments/${state.personId}`)],
    ['getDrug', () => api(rt, t.pharmacy, 'GET', '/drugs/XC08CAA001')],
    ['putDrug', () => api(rt, t.operator, 'PUT', '/drugs/XBENCH001', { name: '基准', category: 'A', unit: '盒' })],
    ['activateVoucher', async () => {
      const r = await api(rt, t.channel, 'POST', '/vouchers', { nationalId: person.nationalId, name: person.name, channel: 'bench' });
      state.voucherId = r.body.voucherId;
      return r;
    }],
    ['getVoucher', () => api(rt, t.channel, 'GET', `/vouchers/${state.voucherId}`)],
    ['suspendVoucher', () => api(rt, t.channel, 'POST', `/vouchers/${state.voucherId}/suspend`)],
    ['resumeVoucher', () => api(rt, t.channel, 'POST', `/vouchers/${state.voucherId}/resume`)],
    ['issueVoucherCode', async () => {
      const r = await api(rt, t.channel, 'POST', `/vouchers/${state.voucherId}/codes`);
      state.code = r.body.code;
      return r;
    }],
    ['settle', async () => {
      const r = await api(rt, t.pharmacy, 'POST', '/settlements', { code: state.code, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 1_000 }] }, { 'idempotency-key': randomUUID() });
      state.settlementId = r.body.settlementId;
      return r;
    }],
    ['getSettlement', () => api(rt, t.pharmacy, 'GET', `/settlements/${state.settlementId}`)],
    ['listSettlements', () => api(rt, t.pharmacy, 'GET', `/settlements?date=${new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date())}`)],
    ['reverseSettlement', () => api(rt, t.pharmacy, 'POST', `/settlements/${state.settlementId}/reversal`)],
    ['getOpenApi', () => api(rt, t.operator, 'GET', '/openapi.json')],

    // Referrals: up, accept, arrive, complete, then down; a second one rejected, rerouted, cancelled.
    ['createReferral', async () => {
      const r = await api(rt, t.clinic, 'POST', '/referrals', { personId: state.personId, direction: 'up', department: 'CARD', reason: '胸闷', diagnoses: ['I20.9'], urgency: 'routine' });
      state.referralId = r.body.referralId;
      return r;
    }],
    ['getReferral', () => api(rt, t.clinic, 'GET', `/referrals/${state.referralId}`)],
    ['listReferrals', () => api(rt, t.hospital, 'GET', '/referrals?box=incoming&status=submitted')],
    ['acceptReferral', () => api(rt, t.hospital, 'POST', `/referrals/${state.referralId}/accept`, { appointmentAt: new Date(Date.now() + 86_400_000).toISOString() })],
    ['arriveReferral', () => api(rt, t.hospital, 'POST', `/referrals/${state.referralId}/arrive`)],
    ['completeReferral', () => api(rt, t.hospital, 'POST', `/referrals/${state.referralId}/complete`)],
    ['rejectReferral', async () => {
      state.second = (await api(rt, t.clinic, 'POST', '/referrals', { personId: state.personId, direction: 'up', toInstitutionId: 'hosp-zjph', department: 'ENDO', reason: '血糖', diagnoses: ['E11.9'], urgency: 'routine' })).body.referralId;
      await rt.settle();
      return api(rt, t.hospital, 'POST', `/referrals/${state.second}/reject`, { reason: '满员' });
    }],
    ['rerouteReferral', () => api(rt, t.clinic, 'POST', `/referrals/${state.second}/reroute`, {})],
    ['cancelReferral', () => api(rt, t.clinic, 'POST', `/referrals/${state.second}/cancel`)],

    // Prescriptions: stock, issue (routed asynchronously), accept, dispense against a settlement; another cancelled.
    ['putStock', () => api(rt, t.pharmacy, 'PUT', '/pharmacies/ph-xihu-1/stock', { items: [{ drugCode: 'XC08CAA001', quantity: 500 }] })],
    ['getStock', () => api(rt, t.pharmacy, 'GET', '/pharmacies/ph-xihu-1/stock')],
    ['issuePrescription', async () => {
      const r = await api(rt, t.clinic, 'POST', '/prescriptions', { personId: state.personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 1, dosage: '每日一次' }], nominatedPharmacyId: 'ph-xihu-1' });
      state.prescriptionId = r.body.prescriptionId;
      return r;
    }],
    ['getPrescription', () => api(rt, t.pharmacy, 'GET', `/prescriptions/${state.prescriptionId}`)],
    ['listPrescriptions', () => api(rt, t.pharmacy, 'GET', '/prescriptions?status=routed')],
    ['acceptPrescription', () => api(rt, t.pharmacy, 'POST', `/prescriptions/${state.prescriptionId}/accept`)],
    ['dispensePrescription', async () => {
      const code = (await api(rt, t.channel, 'POST', `/vouchers/${state.voucherId}/codes`)).body.code;
      const s = await api(rt, t.pharmacy, 'POST', '/settlements', { code, prescriptionId: state.prescriptionId, items: [{ drugCode: 'XC08CAA001', quantity: 1, unitPriceFen: 1_000 }] }, { 'idempotency-key': randomUUID() });
      await rt.settle();
      return api(rt, t.pharmacy, 'POST', `/prescriptions/${state.prescriptionId}/dispense`, { settlementId: s.body.settlementId });
    }],
    ['rejectPrescription', async () => {
      state.rx2 = (await api(rt, t.clinic, 'POST', '/prescriptions', { personId: state.personId, diagnoses: ['I10'], items: [{ drugCode: 'XC08CAA001', quantity: 1, dosage: '每日一次' }], nominatedPharmacyId: 'ph-xihu-1' })).body.prescriptionId;
      await rt.settle();
      return api(rt, t.pharmacy, 'POST', `/prescriptions/${state.rx2}/reject`, { reason: '缺货' });
    }],
    ['cancelPrescription', async () => {
      await rt.settle();
      return api(rt, t.clinic, 'POST', `/prescriptions/${state.rx2}/cancel`);
    }],

    // Advice and guidance: ask (routed), worklist, read, answer, convert; another closed.
    ['requestAdvice', async () => {
      const r = await api(rt, t.clinic, 'POST', '/advice-requests', { personId: state.personId, department: 'CARD', question: '是否需要上转？', diagnoses: ['I10'] });
      state.adviceId = r.body.adviceId;
      return r;
    }],
    ['listAdviceRequests', () => api(rt, t.hospital, 'GET', '/advice-requests?box=incoming&status=open')],
    ['getAdviceRequest', () => api(rt, t.hospital, 'GET', `/advice-requests/${state.adviceId}`)],
    ['replyAdviceRequest', () => api(rt, t.hospital, 'POST', `/advice-requests/${state.adviceId}/reply`, { answer: '建议转诊', recommendation: 'refer' })],
    ['convertAdviceRequest', () => api(rt, t.clinic, 'POST', `/advice-requests/${state.adviceId}/convert`, {})],
    ['closeAdviceRequest', async () => {
      const id = (await api(rt, t.clinic, 'POST', '/advice-requests', { personId: state.personId, toInstitutionId: 'hosp-zjph', department: 'CARD', question: '无需答复' })).body.adviceId;
      return api(rt, t.clinic, 'POST', `/advice-requests/${id}/close`);
    }],

    // The person's own routes (their app's token), and an operator's read of the access log.
    ['getTimeline', async () => api(rt, await rt.token('channel', undefined, { person: state.personId }), 'GET', `/people/${state.personId}/timeline`)],
    ['getAccessLog', () => api(rt, t.operator, 'GET', `/people/${state.personId}/access-log`)],
    ['exportPersonalData', async () => api(rt, await rt.token('channel', undefined, { person: state.personId }), 'GET', `/people/${state.personId}/export`)],
  ];
  const rows: RoundTripRow[] = [];
  for (const [operationId, call] of scenario) {
    await rt.settle(); // nothing else in flight
    const r = await call();
    rows.push({ route: operationId, status: r.status, dynamoCalls: r.dynamoCalls, itemsRead: r.itemsRead });
  }
  for (const r of routes) if (!rows.some((x) => x.route === r.operationId)) rows.push({ route: r.operationId, status: 0, dynamoCalls: 'not measured', itemsRead: '' });
  return rows;
}
