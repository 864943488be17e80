// Prescription issued → routed latency on the local runtime: the whole asynchronous path (outbox
// item, table stream, relay, PutEvents, bus rule, router, its transaction). Measured from the
// prescription's own history (server timestamps of "issued" and "routed"), for prescriptions issued
// one after another and a burst issued together. Where the time went, from the invocations the
// local runtime reports: the API function's own work after "issued", the wait for the stream poller
// (until the relay invocation carrying the prescription's event starts), the relay and the bus
// (until the router starts), and the router's own work.
import { demoNationalId } from '../infra/local/demo-province.ts';
import { invocationListeners } from '../infra/local/lambda.ts';
import type { Runtime } from '../infra/local/runtime.ts';
import { api, mean, percentile, pool } from './lib.ts';

export interface RoutingRow {
  load: string;
  prescriptions: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Means, ms: the API function after "issued"; waiting for the stream poller; relay and bus; the router itself. */
  apiMs: number;
  pollMs: number;
  relayBusMs: number;
  routerMs: number;
}

export async function benchPrescriptionRouting(rt: Runtime): Promise<RoutingRow[]> {
  const operator = await rt.token('operator');
  const clinic = await rt.token('clinic', 'clinic-lingyin');
  // One prescription per person: a second open one of the same drug is refused (duplicate therapy).
  const people = Array.from({ length: 122 }, (_, i) => ({ nationalId: demoNationalId('330106', '19850303', 600 + i), name: `路由${i}`, district: '西湖区', personalAccountFen: 0 }));
  const personIds: string[] = (await api(rt, operator, 'POST', '/enrollments', { people })).body.personIds;
  // Enough stock that routing never runs out during the benchmark.
  for (const ph of ['ph-xihu-1', 'ph-xihu-2', 'ph-xihu-3']) {
    await api(rt, await rt.token('pharmacy', ph), 'PUT', `/pharmacies/${ph}/stock`, { items: [{ drugCode: 'XN02BEA001', quantity: 100_000 }] });
  }
  let nextPerson = 0;
  // When each prescription's POST returned, and when the relay and router invocations carrying it started and ended.
  const answered = new Map<string, number>();
  const relayed = new Map<string, number>();
  const routed = new Map<string, { startedAt: number; ms: number }>();
  const listener = ({ name, startedAt, ms, event }: { name: string; startedAt: number; ms: number; event: unknown }) => {
    if (name !== 'outboxRelay' && name !== 'prescriptionRouter') return;
    const text = JSON.stringify(event);
    for (const id of answered.keys()) {
      if (!text.includes(id)) continue;
      if (name === 'outboxRelay' && !relayed.has(id)) relayed.set(id, startedAt);
      if (name === 'prescriptionRouter' && !routed.has(id)) routed.set(id, { startedAt, ms });
    }
  };
  invocationListeners.add(listener);
  const issue = async () => {
    const id = (await api(rt, clinic, 'POST', '/prescriptions', { personId: personIds[nextPerson++], diagnoses: ['R50.9'], items: [{ drugCode: 'XN02BEA001', quantity: 1, dosage: '必要时服用' }] })).body.prescriptionId as string;
    answered.set(id, Date.now());
    return id;
  };
  const issuedAt = new Map<string, number>();
  const breakdown = (ids: string[]) => ({
    apiMs: mean(ids.map((id) => answered.get(id)! - issuedAt.get(id)!)),
    pollMs: mean(ids.map((id) => relayed.get(id)! - answered.get(id)!)),
    relayBusMs: mean(ids.map((id) => routed.get(id)!.startedAt - relayed.get(id)!)),
    routerMs: mean(ids.map((id) => routed.get(id)!.ms)),
  });

  async function latencies(ids: string[]): Promise<number[]> {
    const out: number[] = [];
    const deadline = Date.now() + 60_000;
    for (const id of ids) {
      for (;;) {
        const rx = (await api(rt, clinic, 'GET', `/prescriptions/${id}`)).body;
        const issued = rx.history?.find((h: { status: string }) => h.status === 'issued');
        const routed = rx.history?.find((h: { status: string }) => h.status === 'routed' || h.status === 'unroutable');
        if (issued && routed) {
          issuedAt.set(id, new Date(issued.at).getTime());
          out.push(new Date(routed.at).getTime() - new Date(issued.at).getTime());
          break;
        }
        if (Date.now() > deadline) throw new Error(`prescription ${id} not routed within 60 s`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    return out.sort((a, b) => a - b);
  }

  await latencies([await issue(), await issue()]); // warm up: first invocations load the router
  await rt.settle();
  const rows: RoutingRow[] = [];
  const sequential: string[] = [];
  for (let i = 0; i < 40; i++) {
    sequential.push(await issue());
    await new Promise((r) => setTimeout(r, 50)); // a clinic's pace, not a flood
  }
  const seq = await latencies(sequential);
  await rt.settle();
  rows.push({ load: 'one at a time', prescriptions: seq.length, p50Ms: percentile(seq, 50), p95Ms: percentile(seq, 95), maxMs: seq.at(-1)!, ...breakdown(sequential) });
  await rt.settle();
  const burstIds = await pool(8, Array.from({ length: 80 }, () => () => issue()));
  const burst = await latencies(burstIds);
  await rt.settle();
  rows.push({ load: 'burst of 80 (8 clinics at once)', prescriptions: burst.length, p50Ms: percentile(burst, 50), p95Ms: percentile(burst, 95), maxMs: burst.at(-1)!, ...breakdown(burstIds) });
  invocationListeners.delete(listener);
  return rows;
}
