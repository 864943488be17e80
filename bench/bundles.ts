// Cold start, measured on bundles built exactly as the CDK stack builds them (infra/stack/bundling.ts:
// the same options, through esbuild's API): every function of the catalog, its size, its import
// time and its whole fresh process (Node's own start plus the import, which is what a cold start
// adds before the first request) against baselines bundled the same way: a hello-world handler, one
// that only loads Node's TLS and crypto modules, and one that only builds the DynamoDB client. Beside them, one function (the counter's,
// vouchers) bundled as the stack used to bundle it and one choice at a time as it is today, so what
// each choice buys is measured in the same run. Samples are interleaved so noise hits all alike.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { build } from 'esbuild';
import { functionCatalog, type FunctionDef, type FunctionName } from '../functions/catalog.ts';
import { functionEnvironment, type EnvInputs } from '../infra/function-env.ts';
import { loadProvince } from '../infra/provinces/load.ts';
import { runtimePart } from '../schemas/province.ts';
import { esbuildOptions, functionBundling, NODE_OPTIONS, projectRoot } from '../infra/stack/bundling.ts';
import { median } from './lib.ts';

const outRoot = join(projectRoot, 'bench', '.out');
const RUNS = 21;

// Each function gets the environment the stack gives it (infra/function-env.ts), with the ZJ config
// and placeholder resource names: what a handler reads at module load is what it reads in Lambda.
const province = loadProvince('ZJ');
const envInputs: EnvInputs = {
  tableName: 'consortium-ZJ',
  eventBusName: 'consortium-ZJ',
  province: runtimePart(province),
  jwksUrl: province.auth.jwksUrl,
  issuer: province.auth.issuer,
  audience: province.auth.audience,
  secretIds: { piiKey: 'pii-key', voucherKey: 'voucher-key' },
  webhookKeyId: 'webhook-key',
  queueUrls: { webhookSender: 'https://sqs.cn-north-1.amazonaws.com.cn/000000000000/webhook-sender' },
};
const envOf = (name: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  AWS_REGION: province.region,
  // The baselines get the largest environment of all: the vouchers function's.
  ...functionEnvironment((name in functionCatalog ? name : 'vouchers') as FunctionName, envInputs),
});

/** How the stack bundled functions before issue 16: an ES module, the runtime's SDK. */
const before: BundlingOptions = {
  ...functionBundling,
  format: OutputFormat.ESM,
  bundleAwsSDK: false,
  banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
};

interface Subject {
  name: string;
  /** The catalog function it is (its environment), if any. */
  fn?: string;
  entry: string;
  bundling?: BundlingOptions;
  /** Node options it runs with: by default a function's (NODE_OPTIONS in Lambda). */
  nodeOptions?: string[];
  /** A row of the choices table: bundled otherwise than the stack bundles it today. */
  choice?: string;
}

async function bundle(s: Subject): Promise<string> {
  const opts = esbuildOptions(join(projectRoot, s.entry), join(outRoot, s.name), s.bundling);
  await build(opts);
  return opts.outfile!;
}

/**
 * [import ms, whole process ms, whole process CPU ms] of one fresh Node process loading `file` the way
 * Lambda's Node runtime does: require() for a CommonJS index.js, import() for an ES module.
 */
function coldStart(file: string, env: NodeJS.ProcessEnv, nodeOptions: string[]): [number, number, number] {
  const load = file.endsWith('.mjs') ? `import(${JSON.stringify(`file://${file}`)})` : `Promise.resolve(require(${JSON.stringify(file)}))`;
  const script = `const t = process.hrtime.bigint(); ${load}.then(() => { const ms = Number(process.hrtime.bigint() - t) / 1e6; const r = process.resourceUsage(); process.stdout.write(JSON.stringify([ms, (r.userCPUTime + r.systemCPUTime) / 1000])); });`;
  const started = performance.now();
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...env, NODE_OPTIONS: nodeOptions.join(' ') }, cwd: outRoot }).toString();
  const whole = performance.now() - started;
  const [imported, cpu] = JSON.parse(out) as [number, number];
  return [imported, whole, cpu];
}

export interface BundleRow {
  function: string;
  kb: number;
  importMs: number;
  /** import time / the SDK-only handler's: what our own code adds on top of the SDK. */
  importVsSdk: number;
  /** whole fresh process (Node start + import), wall clock. */
  processMs: number;
  /** whole fresh process / hello-world's: the issue's measure (goal <= 1.6). */
  processVsHello: number;
  /** the same in CPU time (user + system), which a busy machine disturbs less than wall time. */
  cpuVsHello: number;
}

export interface ImportPart {
  part: string;
  ms: number;
  share: number;
}

/** The part of an import before the first module's code runs. */
const COMPILE = 'reading and compiling the bundle';

/** Which part of an import a bundled module's top-level code belongs to (by its path in the bundle). */
function partOf(module: string): string {
  if (module === COMPILE) return COMPILE;
  if (/^node_modules\/(@aws-sdk|@smithy|@aws\/)/.test(module)) return 'AWS SDK modules';
  if (module === 'functions/shared/db.ts') return 'building the DynamoDB client (functions/shared/db.ts)';
  if (/^(node_modules\/zod\/|schemas\/|events\/)/.test(module)) return 'zod and our schemas (schemas/, events/)';
  if (module.startsWith('node_modules/')) return 'other libraries (Powertools logger, middy, jose…)';
  return 'our other modules (functions/)';
}

/**
 * Where one function's import time goes: its bundle built as the stack builds it but not minified
 * (esbuild then names every module in a comment where its top-level code begins), a clock read at
 * each of those places, in fresh processes. Time before the first module is Node reading and
 * compiling the file. The unminified file is larger, so its compile takes longer than the shipped
 * one's; the parts after it run the same code.
 */
async function importParts(s: Subject): Promise<{ parts: ImportPart[]; schemaModules: ImportPart[] }> {
  const opts = esbuildOptions(join(projectRoot, s.entry), join(outRoot, `${s.name}-parts`));
  await build({ ...opts, minify: false });
  const file = opts.outfile!;
  const marked = readFileSync(file, 'utf8').replace(/^\/\/ ((?:node_modules|functions|schemas|events)\/\S+)$/gm, (line, module: string) => `globalThis.__mark(${JSON.stringify(module)});\n${line}`);
  writeFileSync(file, marked);
  const script = `const parts = {}; let current = ${JSON.stringify(COMPILE)}, last = performance.now();
    globalThis.__mark = (m) => { const now = performance.now(); parts[current] = (parts[current] ?? 0) + now - last; current = m; last = performance.now(); };
    require(${JSON.stringify(file)}); globalThis.__mark('');
    process.stdout.write(JSON.stringify(parts));`;
  const samples = new Map<string, number[]>();
  // Our schema modules one by one: which of them a first request needs decides what building them
  // on first use could save (README, "Cold start").
  const bySchemaModule = new Map<string, number[]>();
  for (let run = 0; run < RUNS; run++) {
    const out = execFileSync(process.execPath, ['-e', script], { env: { ...envOf(s.fn ?? s.name), NODE_OPTIONS: NODE_OPTIONS.join(' ') }, cwd: outRoot }).toString();
    const byPart = new Map<string, number>();
    for (const [module, ms] of Object.entries(JSON.parse(out) as Record<string, number>)) {
      const part = partOf(module);
      byPart.set(part, (byPart.get(part) ?? 0) + ms);
      if (/^(schemas|events)\//.test(module)) bySchemaModule.set(module, [...(bySchemaModule.get(module) ?? []), ms]);
    }
    for (const [part, ms] of byPart) samples.set(part, [...(samples.get(part) ?? []), ms]);
  }
  const shares = (rows: Array<{ part: string; ms: number }>, total: number) => rows.sort((a, b) => b.ms - a.ms).map((p) => ({ ...p, share: p.ms / total }));
  const parts = [...samples].map(([part, ms]) => ({ part, ms: median(ms) }));
  const total = parts.reduce((a, p) => a + p.ms, 0);
  return { parts: shares(parts, total), schemaModules: shares([...bySchemaModule].map(([part, ms]) => ({ part, ms: median(ms) })), total) };
}

export async function benchBundles(): Promise<{ functions: BundleRow[]; choices: BundleRow[]; vouchersImport: ImportPart[]; vouchersSchemaModules: ImportPart[] }> {
  rmSync(outRoot, { recursive: true, force: true });
  mkdirSync(outRoot, { recursive: true });
  // Lambda's /var/task has no package.json saying "type": "module": index.js is CommonJS there, and here.
  writeFileSync(join(outRoot, 'package.json'), '{ "type": "commonjs" }\n');

  const vouchers = functionCatalog.vouchers.entry;
  const subjects: Subject[] = [
    // Plain Node: no options.
    { name: 'hello-world', entry: 'bench/hello.ts', nodeOptions: [] },
    { name: 'tls-only', entry: 'bench/hello-tls.ts' },
    { name: 'sdk-only', entry: 'bench/hello-sdk.ts' },
    ...(Object.entries(functionCatalog) as Array<[string, FunctionDef]>).map(([name, def]) => ({ name, entry: def.entry })),
    { name: 'vouchers-before', fn: 'vouchers', entry: vouchers, bundling: before, choice: "before: ES module, the runtime's SDK" },
    { name: 'vouchers-sdk', fn: 'vouchers', entry: vouchers, bundling: { ...before, bundleAwsSDK: true }, choice: '+ SDK bundled (tree-shaken, minified)' },
    { name: 'vouchers-cjs', fn: 'vouchers', entry: vouchers, choice: '+ CommonJS output (= vouchers above)' },
    { name: 'vouchers-no-maps', fn: 'vouchers', entry: vouchers, nodeOptions: [], choice: 'the same without --enable-source-maps' },
  ];
  const files = new Map<Subject, string>();
  for (const s of subjects) files.set(s, await bundle(s));

  const samples = new Map(subjects.map((s) => [s, { imports: [] as number[], processes: [] as number[], cpus: [] as number[] }]));
  for (let run = 0; run < RUNS; run++) {
    for (const s of subjects) {
      const [imported, whole, cpu] = coldStart(files.get(s)!, envOf(s.fn ?? s.name), s.nodeOptions ?? NODE_OPTIONS);
      samples.get(s)!.imports.push(imported);
      samples.get(s)!.processes.push(whole);
      samples.get(s)!.cpus.push(cpu);
    }
  }
  const medians = (s: Subject) => {
    const x = samples.get(s)!;
    return { importMs: median(x.imports), processMs: median(x.processes), cpuMs: median(x.cpus) };
  };
  const hello = medians(subjects[0]!);
  const sdk = medians(subjects.find((s) => s.name === 'sdk-only')!);
  const row = (s: Subject): BundleRow => {
    const m = medians(s);
    return {
      function: s.choice ?? s.name,
      kb: statSync(files.get(s)!).size / 1024,
      importMs: m.importMs,
      importVsSdk: m.importMs / sdk.importMs,
      processMs: m.processMs,
      processVsHello: m.processMs / hello.processMs,
      cpuVsHello: m.cpuMs / hello.cpuMs,
    };
  };
  const { parts, schemaModules } = await importParts({ name: 'vouchers', entry: vouchers });
  return {
    functions: subjects.filter((s) => !s.choice).map(row),
    choices: subjects.filter((s) => s.choice).map(row),
    vouchersImport: parts,
    vouchersSchemaModules: schemaModules,
  };
}
