// `npm start` as a developer runs it: its own DynamoDB Local under DATA_DIR, the printed
// "listening on" line, a token from `npm run token`, Ctrl-C stopping every child, and a restart on
// the same DATA_DIR keeping the data.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, projectRoot } from '../../infra/local/dynamodb-local.ts';
import { demoPeople } from '../../infra/local/demo-province.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'consortium-start-'));
let child: ChildProcess | undefined;

async function start(port: number): Promise<{ url: string; output: () => string }> {
  child = spawn('npm', ['start'], { cwd: projectRoot, env: { ...process.env, PORT: String(port), DATA_DIR: dataDir }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" within 90 s:\n${out}`)), 90_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child!.stdout!.on('data', check);
    child!.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)));
  });
  return { url, output: () => out };
}

/** `group`: the whole process group, like Ctrl-C in a terminal; else only npm, like a supervisor. */
async function stop(signal: NodeJS.Signals, group: boolean): Promise<void> {
  const c = child!;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  process.kill(group ? -c.pid! : c.pid!, signal);
  await exited;
  child = undefined;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

const token = async (role: string) =>
  (await promisify(execFile)('npm', ['run', '--silent', 'token', '--', '--role', role], { cwd: projectRoot, env: { ...process.env, DATA_DIR: dataDir } })).stdout.trim();

afterAll(async () => {
  if (child?.pid) process.kill(-child.pid, 'SIGKILL');
});

describe('npm start', () => {
  it('serves the seeded platform, stops every child on SIGINT, keeps data across a restart', async () => {
    const port = await freePort();
    const first = await start(port);
    expect(first.url).toBe(`http://127.0.0.1:${port}`);
    expect(await (await fetch(`${first.url}/health`)).json()).toEqual({ status: 'ok' });

    const operator = await token('operator');
    expect(operator).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/); // the token and nothing else
    const headers = { authorization: `Bearer ${operator}`, 'content-type': 'application/json' };
    const pharmacies = (await (await fetch(`${first.url}/institutions?type=pharmacy`, { headers })).json()) as { items: Array<{ designated: boolean }> };
    expect(pharmacies.items.filter((p: { designated: boolean }) => p.designated).length).toBeGreaterThanOrEqual(5);
    const changed = (await (await fetch(`${first.url}/enrollments`, { method: 'POST', headers, body: JSON.stringify({ people: [{ ...demoPeople[1], personalAccountFen: 4321 }] }) })).json()) as { personIds: string[] };
    const personId = changed.personIds[0];

    const javaPid = Number(readFileSync(join(dataDir, 'dynamodb.pid'), 'utf8'));
    expect(alive(javaPid)).toBe(true);
    await stop('SIGINT', true);
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(javaPid)).toBe(false);

    const second = await start(port);
    const person = (await (await fetch(`${second.url}/enrollments/${personId}`, { headers })).json()) as { personalAccountFen: number };
    expect(person.personalAccountFen).toBe(4321); // not re-seeded over
    expect(second.output()).not.toContain('seeded demo province');
    const secondJava = Number(readFileSync(join(dataDir, 'dynamodb.pid'), 'utf8'));
    await stop('SIGTERM', false);
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(secondJava)).toBe(false);
    expect(second.output()).toContain('SIGTERM: stopping');
  });
});
