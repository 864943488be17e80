// The local dev issuer mints only tokens the authorizer accepts for their whole life: the lifetime
// defaults to, and may not exceed, the province's tokenMaxAgeHours.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadOrCreateKeys, signToken } from '../../infra/local/dev-issuer.ts';
import { projectRoot } from '../../infra/local/dynamodb-local.ts';
import { loadProvince } from '../../infra/provinces/load.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'dev-issuer-'));
const province = loadProvince('ZJ');
const maxAge = province.tokenMaxAgeHours * 3600;

describe('dev issuer', () => {
  it('signs for the province max age by default and refuses a longer lifetime', async () => {
    const keys = await loadOrCreateKeys(dataDir);
    const claims = decodeJwt(await signToken(keys, { role: 'operator', province }));
    expect(claims.exp! - claims.iat!).toBe(maxAge);
    const short = decodeJwt(await signToken(keys, { role: 'operator', province, ttlSeconds: 60 }));
    expect(short.exp! - short.iat!).toBe(60);
    await expect(signToken(keys, { role: 'operator', province, ttlSeconds: maxAge + 1 })).rejects.toThrow(/tokenMaxAgeHours/);
  });

  it('npm run token -- --ttl refuses more than the max age', async () => {
    const run = (ttl: number) =>
      promisify(execFile)(join(projectRoot, 'node_modules/.bin/tsx'), ['infra/local/token-cli.ts', '--role', 'operator', '--ttl', String(ttl)], {
        cwd: projectRoot,
        env: { ...process.env, DATA_DIR: dataDir },
      });
    const ok = await run(maxAge);
    expect(decodeJwt(ok.stdout.trim()).exp! - decodeJwt(ok.stdout.trim()).iat!).toBe(maxAge);
    await expect(run(maxAge + 1)).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--ttl must be 1\.\.43200 seconds/) });
  });

  it('npm run token -- --help prints the usage and succeeds, signing nothing; an unknown option fails', async () => {
    const run = (...args: string[]) => promisify(execFile)(join(projectRoot, 'node_modules/.bin/tsx'), ['infra/local/token-cli.ts', ...args], { cwd: projectRoot, env: { ...process.env, DATA_DIR: dataDir } });
    const help = await run('--help');
    expect(help.stdout).toMatch(/^usage: npm run --silent token -- --role <operator\|channel\|clinic\|hospital\|pharmacy>.*--subject/);
    expect(help.stdout).not.toMatch(/^eyJ/m);
    await expect(run('--bogus')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown option '--bogus'/) });
  });
});
