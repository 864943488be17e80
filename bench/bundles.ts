// Every function bundled the way the CDK stack bundles it (esbuild, ESM, minified, node22, AWS SDK
// external), its size, and its import (init) time in a fresh Node process as a ratio to a
// hello-world handler bundled the same way, measured interleaved in the same run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { functionCatalog, type FunctionDef } from '../functions/catalog.ts';
import { projectRoot } from '../infra/local/dynamodb-local.ts';
import { median } from './lib.ts';

const outRoot = join(projectRoot, 'bench', '.out');
const RUNS = 7;

// What the handlers read at module load; values only need to parse.
const env = {
  ...process.env,
  AWS_REGION: 'ap-east-1',
  TABLE_NAME: 't',
  EVENT_BUS_NAME: 'b',
  JWKS_URL: 'https://idp.example/jwks.json',
  JWT_ISSUER: 'i',
  JWT_AUDIENCE: 'a',
  PII_KEY_SECRET_ID: 's',
  VOUCHER_KEY_SECRET_ID: 's',
  PROVINCE_CONFIG: JSON.stringify({
    code: 'ZJ', name: 'Zhejiang', timeZone: 'Asia/Shanghai', referralSlaHours: 24, prescriptionValidityHours: 72, voucherCodeTtlSeconds: 60,
    policy: { categoryBSelfPayPercent: 10, annualDeductibleFen: 1, annualCapFen: 1, referredRatio: { primary: 1, secondary: 1, tertiary: 1 }, ratio: { primary: 1, secondary: 1, tertiary: 1, pharmacy: 1 } },
  }),
};

async function bundle(name: string, entry: string): Promise<string> {
  const outfile = join(outRoot, name, 'index.mjs');
  await build({
    entryPoints: [join(projectRoot, entry)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minify: true,
    sourcemap: 'external',
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/*'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  return outfile;
}

function importMs(file: string): number {
  const script = `const t = process.hrtime.bigint(); await import(${JSON.stringify(`file://${file}`)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, cwd: projectRoot }).toString());
}

export interface BundleRow {
  function: string;
  kb: number;
  initMs: number;
  initRatio: number;
}

export async function benchBundles(): Promise<BundleRow[]> {
  rmSync(outRoot, { recursive: true, force: true });
  mkdirSync(outRoot, { recursive: true });
  const hello = await bundle('hello', 'bench/hello.ts');
  const files = new Map<string, string>();
  for (const [name, def] of Object.entries(functionCatalog) as Array<[string, FunctionDef]>) files.set(name, await bundle(name, def.entry));

  const samples = new Map<string, number[]>([['hello', []], ...[...files.keys()].map((n) => [n, []] as [string, number[]])]);
  for (let run = 0; run < RUNS; run++) {
    // Interleaved, so machine noise hits every bundle alike.
    samples.get('hello')!.push(importMs(hello));
    for (const [name, file] of files) samples.get(name)!.push(importMs(file));
  }
  const helloMs = median(samples.get('hello')!);
  const rows: BundleRow[] = [{ function: 'hello-world', kb: statSync(hello).size / 1024, initMs: helloMs, initRatio: 1 }];
  for (const [name, file] of files) {
    const ms = median(samples.get(name)!);
    rows.push({ function: name, kb: statSync(file).size / 1024, initMs: ms, initRatio: ms / helloMs });
  }
  return rows;
}
