// What the stack deploys, bundled for real: NodejsFunction runs esbuild's CLI with the options of
// infra/stack/bundling.ts, and the cold-start benchmark builds through esbuild's API with the same
// options (esbuildOptions); both must give the same file, and that file must hold the choices the
// README's cold-start figures are about.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, AssetStaging, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionCatalog } from '../../functions/catalog.ts';
import { esbuildOptions, NODE_OPTIONS, projectRoot } from '../../infra/stack/bundling.ts';
import { ConsortiumFunction } from '../../infra/stack/consortium-function.ts';

// The outbox relay: small, and it uses two SDK packages (EventBridge, util-dynamodb).
const def = functionCatalog.outboxRelay;

describe('function bundles', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'bundling-cdk-'));
  const benchDir = mkdtempSync(join(tmpdir(), 'bundling-bench-'));
  let cdkDir: string;
  let template: Template;

  beforeAll(async () => {
    // Bundling on (no aws:cdk:bundling-stacks context): the asset is built as `cdk synth` builds it.
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bundling');
    const fn = new ConsortiumFunction(stack, 'OutboxRelay', { def, environment: {}, key: new kms.Key(stack, 'Key'), logRetention: logs.RetentionDays.ONE_DAY });
    const staging = fn.fn.node.findAll().find((c): c is AssetStaging => c instanceof AssetStaging);
    cdkDir = staging!.absoluteStagedPath;
    template = Template.fromStack(stack);

    await build(esbuildOptions(join(projectRoot, def.entry), benchDir));
  });

  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
    rmSync(benchDir, { recursive: true, force: true });
  });

  it('the benchmark builds byte for byte what the stack deploys', () => {
    expect(readFileSync(join(benchDir, 'index.js')).equals(readFileSync(join(cdkDir, 'index.js')))).toBe(true);
    const mappings = (dir: string) => (JSON.parse(readFileSync(join(dir, 'index.js.map'), 'utf8')) as { mappings: string }).mappings;
    expect(mappings(benchDir)).toBe(mappings(cdkDir));
  });

  it('is one minified CommonJS file with the AWS SDK inside, not left to the runtime', () => {
    const code = readFileSync(join(cdkDir, 'index.js'), 'utf8');
    // No installed package is required at run time: the SDK is in the file. (What is left are Node's
    // own modules and optional packages the SDK tries inside a try, like the CRT signer, not installed.)
    const installed = (name: string) => {
      try {
        createRequire(join(projectRoot, 'package.json')).resolve(name);
        return true;
      } catch {
        return false;
      }
    };
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
    expect(required.filter((r) => !r.startsWith('node:') && !builtinModules.includes(r) && installed(r))).toEqual([]);
    expect(required.some((r) => r.startsWith('@aws-sdk/client-'))).toBe(false);
    // The EventBridge client's own schema of the operation is in the file.
    expect(code.includes('"PutEventsRequestEntryList"')).toBe(true);
    expect(/^import /m.test(code)).toBe(false);
    // Minified: relay.ts's own function names are gone, and lines are long.
    expect(code.includes('function toEntry(')).toBe(false);
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
  });

  it('has its source map in a file of its own, without the sources, enabled at run time', () => {
    const code = readFileSync(join(cdkDir, 'index.js'), 'utf8');
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.js.map')).toBe(true);
    const map = JSON.parse(readFileSync(join(cdkDir, 'index.js.map'), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    expect(map.sourcesContent).toBeUndefined();
    expect(map.sources.some((s) => s.endsWith('functions/outbox/relay.ts'))).toBe(true);
    const [fnProps] = Object.values(template.findResources('AWS::Lambda::Function')).map((r) => r.Properties);
    expect(fnProps.Environment.Variables.NODE_OPTIONS).toBe(NODE_OPTIONS.join(' '));
    expect(NODE_OPTIONS).toContain('--enable-source-maps');
  });
});
