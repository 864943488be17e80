// Seeds the demo province once per table, through the real API (so seeding exercises the same
// handlers, validation and outbox as any client). Each step is idempotent on its own as well; a
// marker item records completion so a restart never resets balances that settlements changed.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { demoDrugs, demoInstitutions, demoPeople, demoStock } from './demo-province.ts';
import type { Runtime } from './runtime.ts';

const MARKER = { PK: 'SEED#demo-province', SK: 'v1' };

export async function seedDemoProvince(rt: Runtime, endpoint: string, log: (line: string) => void): Promise<void> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint }));
  const seeded = await db.send(new GetCommand({ TableName: rt.tableName, Key: MARKER }));
  if (seeded.Item) return;

  const operator = await rt.token('operator', undefined, { subject: 'seed' });
  const call = async (token: string, method: string, path: string, body: unknown, ok: number[]) => {
    const res = await fetch(rt.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!ok.includes(res.status)) throw new Error(`seed: ${method} ${path} → ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };

  // Each call writes items of its own, so those that depend on none of the others go at once: every
  // test file starts a runtime, and one after another they took half its start (7 of 13 s on a loaded
  // CI machine; 3.5 s at once). Hospitals first: a clinic names its lead hospital. 409 means "already registered".
  const register = (inst: (typeof demoInstitutions)[number]) => call(operator, 'POST', '/institutions', inst, [201, 409]);
  await Promise.all(demoInstitutions.filter((i) => i.type === 'hospital').map(register));
  await Promise.all([
    ...demoInstitutions.filter((i) => i.type !== 'hospital').map(register),
    ...demoDrugs.map(({ drugCode, ...drug }) => call(operator, 'PUT', `/drugs/${drugCode}`, drug, [200, 201])),
  ]);
  const result = await call(operator, 'POST', '/enrollments', { people: demoPeople }, [200]);
  if ((result.rejected as unknown[]).length) throw new Error(`seed: enrolment rejected ${JSON.stringify(result.rejected)}`);

  // Stock through PUT /pharmacies/{id}/stock, each pharmacy with its own token (only it may set its
  // stock). The quantity is on hand; nothing is reserved yet, so all of it is available.
  await Promise.all(demoInstitutions.filter((i) => i.type === 'pharmacy').map(async (inst) => {
    const pharmacy = await rt.token('pharmacy', inst.id, { subject: 'seed' });
    await call(pharmacy, 'PUT', `/pharmacies/${inst.id}/stock`, { items: demoStock(inst.id) }, [200]);
  }));
  await db.send(new PutCommand({ TableName: rt.tableName, Item: { ...MARKER, seededAt: new Date().toISOString() } }));
  log(`seeded demo province ${rt.province.code}: ${demoInstitutions.length} institutions, ${demoDrugs.length} drugs, ${demoPeople.length} people`);
}
