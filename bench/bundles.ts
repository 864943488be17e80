// Every function bundled the way the CDK stack bundles it (esbuild, ESM, minified, node24, AWS SDK
// external), its size, and its import (init) time in a fresh Node process as a ratio to a
// hello-world handler bundled the same way, measured interleaved in the same run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { functionCatalog, type FunctionDef } from '../functions/catalog.ts';
import { projectRoot } from '../infra/local/dynamodb-local.ts';
import { ESBUILD_TARGET } from '../infra/stack/consortium-function.ts';
import { median } from './lib.ts';

const outRoot = join(projectRoot, 'bench', '.out');
const RUNS = 7;

// What the handlers read at module load; values only need to parse.
const env = {
  ...process.env,
  AWS_REGION: 'cn-north-1',
  TABLE_NAME: 't',
  EVENT_BUS_NAME: 'b',
  JWKS_URL: 'https://idp.example/jwks.json',
  JWT_ISSUER: 'i',
  JWT_AUDIENCE: 'a',
  PII_KEY_SECRET_ID: 's',
  VOUCHER_KEY_SECRET_ID: 's',
  PROVINCE_CONFIG: JSON.stringify({
    code: 'ZJ', name: 'Zhejiang', timeZone: 'Asia/Shanghai', referralSlaHours: 24, prescriptionValidityHours: 72, voucherCodeTtlSeconds: 60,
    policy: { categoryBSelfPayPercent: 10, annualDeductibleFen: 1, annualCapFen: 1, referredRatio: { primary: 1, secondary: 1, tertiary: 1 }, ratio: { primary: 1, secondary: 1, tertiary: 1, pharmacy: 1 }, maxSettlementFen: 1 },
  }),
};

async function bundle(name: string, entry: string, sdk: 'external' | 'bundled' = 'external'): Promise<string> {
  const outfile = join(outRoot, name, 'index.mjs');
  await build({
    entryPoints: [join(projectRoot, entry)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: ESBUILD_TARGET,
    minify: true,
    sourcemap: 'external',
    mainFields: ['module', 'main'],
    external: sdk === 'external' ? ['@aws-sdk/*'] : [],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  return outfile;
}

/** [import time, whole process time] in ms: the second includes Node's own start, as a cold start does. */
function initMs(file: string): [number, number] {
  const script = `const t = process.hrtime.bigint(); await import(${JSON.stringify(`file://${file}`)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  const started = performance.now();
  const imported = Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, cwd: projectRoot }).toString());
  return [imported, performance.now() - started];
}

export interface BundleRow {
  function: string;
  kb: number;
  importMs: number;
  /** import time / hello-world's: the issue's measure. */
  vsHello: number;
  /** import time / the SDK-only handler's: what our own code adds on top of the SDK. */
  vsSdkHello: number;
  /** whole fresh process (Node start + import) / hello-world's. */
  processVsHello: number;
}

export async function benchBundles(): Promise<BundleRow[]> {
  rmSync(outRoot, { recursive: true, force: true });
  mkdirSync(outRoot, { recursive: true });
  const files = new Map<string, string>([
    ['hello-world', await bundle('hello', 'bench/hello.ts')],
    ['hello-sdk', await bundle('hello-sdk', 'bench/hello-sdk.ts')],
  ]);
  for (const [name, def] of Object.entries(functionCatalog) as Array<[string, FunctionDef]>) files.set(name, await bundle(name, def.entry));
  // The alternative to an external SDK: bundle it (bigger, but one file to load).
  files.set('vouchers (SDK bundled)', await bundle('vouchers-sdk-bundled', functionCatalog.vouchers.entry, 'bundled'));

  const samples = new Map([...files.keys()].map((n) => [n, { imports: [] as number[], processes: [] as number[] }]));
  for (let run = 0; run < RUNS; run++) {
    // Interleaved, so machine noise hits every bundle alike.
    for (const [name, file] of files) {
      const [imported, whole] = initMs(file);
      samples.get(name)!.imports.push(imported);
      samples.get(name)!.processes.push(whole);
    }
  }
  const hello = samples.get('hello-world')!;
  const sdk = samples.get('hello-sdk')!;
  return [...files].map(([name, file]) => {
    const s = samples.get(name)!;
    return {
      function: name,
      kb: statSync(file).size / 1024,
      importMs: median(s.imports),
      vsHello: median(s.imports) / median(hello.imports),
      vsSdkHello: median(s.imports) / median(sdk.imports),
      processVsHello: median(s.processes) / median(hello.processes),
    };
  });
}
