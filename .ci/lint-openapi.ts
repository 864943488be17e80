// `npm run lint:openapi`: the document GET /openapi.json serves, written to a temporary file and
// linted with Redocly (recommended rules, redocly.yaml) and Spectral (spectral:oas and the OWASP
// API Security ruleset, .spectral.yaml). Any error of either, or any Spectral warning, fails.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApiDocument } from '../schemas/openapi.ts';
import { routes } from '../schemas/routes.ts';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
const file = join(dir, 'openapi.json');
writeFileSync(file, JSON.stringify(openApiDocument(routes), null, 2));

const runs: Array<[string, string[]]> = [
  ['redocly', ['lint', file, '--config', join(root, 'redocly.yaml')]],
  ['spectral', ['lint', file, '--ruleset', join(root, '.spectral.yaml'), '--fail-severity', 'warn']],
];
let failed = false;
for (const [tool, args] of runs) {
  process.stdout.write(`\n$ ${tool} ${args.join(' ')}\n`);
  try {
    execFileSync(join(root, 'node_modules', '.bin', tool), args, {
      cwd: root,
      stdio: 'inherit',
      // No usage telemetry or update checks from CI or a developer's machine.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
  } catch {
    failed = true;
  }
}
rmSync(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
