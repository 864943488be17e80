// Every AWS service besides DynamoDB that a function's code can call is one its catalog entry grants,
// and it is granted none it cannot call. DynamoDB is checked where it is used: the local runtime
// refuses any command a function's entry does not grant (infra/local/table-grants.ts). The other
// services are served locally without IAM, so a missing grant there would pass every local test and
// fail in a province. Here the SDK clients left in each function's bundle after tree-shaking (its
// module graph, with the clients as side-effect-free stand-ins, as their packages declare) are held
// against the entry the stack builds the function's role from (infra/stack/functions.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { functionCatalog, type FunctionDef } from '../../functions/catalog.ts';
import { projectRoot } from '../../infra/stack/bundling.ts';

/** What in a catalog entry grants each client's service. */
const grantedBy: Record<string, (def: FunctionDef) => boolean> = {
  '@aws-sdk/client-eventbridge': (def) => !!def.publishesEvents,
  '@aws-sdk/client-secrets-manager': (def) => !!def.secrets?.length,
  '@aws-sdk/client-kms': (def) => !!def.webhookKey,
  // A queue consumer's own queue (its event source mapping grants it) or the queues it sends to.
  '@aws-sdk/client-sqs': (def) => def.kind === 'queue' || !!def.sendsTo?.length,
};
/** Checked at run time instead (above). */
const atRunTime = new Set(['@aws-sdk/client-dynamodb']);

/** Each client package a stand-in that is dropped unless something that is kept uses it; other packages external. */
const standIns: Plugin = {
  name: 'sdk-client-stand-ins',
  setup(b) {
    b.onResolve({ filter: /^@aws-sdk\/client-/ }, (a) => ({ path: a.path, namespace: 'client', sideEffects: false }));
    b.onResolve({ filter: /^[^./#]/ }, (a) => ({ path: a.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: 'client' }, () => ({ contents: 'module.exports = {}', loader: 'js' }));
  },
};

async function clientsOf(def: FunctionDef): Promise<string[]> {
  const { metafile } = await build({
    entryPoints: [resolve(projectRoot, def.entry)], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', logLevel: 'silent', outdir: 'out', plugins: [standIns],
  });
  const [output] = Object.values(metafile.outputs);
  return Object.entries(output!.inputs).filter(([path, input]) => path.startsWith('client:') && input.bytesInOutput > 0).map(([path]) => path.slice('client:'.length)).sort();
}

describe('SDK clients and grants', () => {
  it.each(Object.entries(functionCatalog))('%s calls only services its catalog entry grants, and is granted none it does not call', async (_name, def) => {
    const clients = (await clientsOf(def)).filter((c) => !atRunTime.has(c));
    expect(clients.filter((c) => !(c in grantedBy)), 'a client this test does not know: add what grants it').toEqual([]);
    expect(clients).toEqual(Object.keys(grantedBy).filter((c) => grantedBy[c]!(def)).sort());
  });

  it('sees a client the code uses, and not one only imported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdk-grants-'));
    try {
      const entry = (name: string, code: string) => {
        writeFileSync(join(dir, name), code);
        return { entry: join(dir, name) } as FunctionDef;
      };
      const uses = entry('uses.ts', "import { SQSClient } from '@aws-sdk/client-sqs';\nimport { KMSClient } from '@aws-sdk/client-kms';\nexport const handler = () => new SQSClient({});\n");
      const lazy = entry('lazy.ts', "import { SQSClient } from '@aws-sdk/client-sqs';\nlet c: SQSClient | undefined;\nexport const handler = () => (c ??= new SQSClient({}));\n");
      // A module shared with functions that send (as db.ts and outbox.ts are): this one only takes a name from it.
      entry('shared.ts', "import { SQSClient } from '@aws-sdk/client-sqs';\nexport const queueName = () => 'q';\nexport const send = () => new SQSClient({});\n");
      const unused = entry('unused.ts', "import { queueName } from './shared.ts';\nexport const handler = () => queueName();\n");
      expect(await clientsOf(uses)).toEqual(['@aws-sdk/client-sqs']);
      expect(await clientsOf(lazy)).toEqual(['@aws-sdk/client-sqs']);
      // What nothing kept calls is tree-shaken with its client, as in the deployed bundle.
      expect(await clientsOf(unused)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
