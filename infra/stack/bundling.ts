// How every function is bundled, stated once: the CDK stack hands these options to NodejsFunction
// (which runs the esbuild CLI), and bench/bundles.ts builds with the same options through esbuild's
// API (`esbuildOptions`). tests/infra/bundling.test.ts checks that both produce the same file.
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import { join } from 'node:path';

export const projectRoot = join(import.meta.dirname, '../..');

/** The Lambda runtime and the esbuild target of every bundle. */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const ESBUILD_TARGET = 'node24';

/**
 * What each choice buys is measured by `npm run bench` (bench/bundles.ts) and written down in the
 * README ("Cold start"):
 * - the AWS SDK v3 is bundled, not taken from the runtime: one file to read instead of hundreds of
 *   modules to resolve, and only the clients and commands we use (the SDK team's advice,
 *   aws/aws-cdk#25492); it also pins the SDK version we test with;
 * - `module` before `main`: the SDK's and our dependencies' ES builds, which esbuild can tree-shake;
 * - minified: less to read and parse;
 * - CommonJS output: Node loads a built-in module (http, zlib, child_process, …) only when code
 *   that needs it runs. In an ES module bundle every `import … from 'node:…'` of every bundled
 *   module is hoisted and linked before the handler's first line, including those of the
 *   credential providers Lambda never uses, and each gets an ES facade (node:http's pulls in
 *   undici);
 * - source maps in a file of their own, without the sources, and enabled at run time (NODE_OPTIONS
 *   below) so that a stack trace in the logs names our files and lines. Node 24 reads and parses a
 *   bundle's map only when it first formats a stack trace from it, not when it loads the bundle
 *   (nodejs/node#41541 was about doing that at load).
 */
export const functionBundling: BundlingOptions = {
  format: OutputFormat.CJS,
  target: ESBUILD_TARGET,
  bundleAwsSDK: true,
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  tsconfig: join(projectRoot, 'tsconfig.json'),
};

/** Every function's NODE_OPTIONS (the bench runs the bundles with the same). */
export const NODE_OPTIONS = ['--enable-source-maps'];

/** The AWS SDK packages NodejsFunction leaves to the runtime unless told to bundle them. */
const RUNTIME_SDK = ['@aws-sdk/*'];

/**
 * `bundling` (NodejsFunction's options) as esbuild's build() takes them, with the arguments
 * NodejsFunction always adds (bundle, platform node, the output file's name by format). Options this
 * does not translate are refused rather than silently dropped.
 */
export function esbuildOptions(entry: string, outdir: string, bundling: BundlingOptions = functionBundling): BuildOptions {
  const known = new Set(['format', 'target', 'bundleAwsSDK', 'externalModules', 'mainFields', 'minify', 'sourceMap', 'sourceMapMode', 'sourcesContent', 'tsconfig', 'banner']);
  const unknown = Object.keys(bundling).filter((k) => !known.has(k));
  if (unknown.length) throw new Error(`esbuildOptions does not translate ${unknown.join(', ')}`);
  const esm = bundling.format === OutputFormat.ESM;
  const sourceMap = bundling.sourceMapMode ?? (bundling.sourceMap ? SourceMapMode.DEFAULT : undefined);
  return {
    entryPoints: [entry],
    outfile: join(outdir, esm ? 'index.mjs' : 'index.js'),
    bundle: true,
    platform: 'node',
    format: esm ? 'esm' : 'cjs',
    target: bundling.target,
    minify: bundling.minify,
    // The CLI's bare --sourcemap (SourceMapMode.DEFAULT) is esbuild's "linked".
    sourcemap: sourceMap === undefined ? false : sourceMap === SourceMapMode.DEFAULT ? 'linked' : (sourceMap as 'external' | 'inline' | 'both'),
    sourcesContent: bundling.sourcesContent ?? true,
    external: bundling.externalModules ?? (bundling.bundleAwsSDK ? [] : RUNTIME_SDK),
    mainFields: bundling.mainFields,
    banner: bundling.banner ? { js: bundling.banner } : undefined,
    tsconfig: bundling.tsconfig,
    logLevel: 'error',
  };
}
