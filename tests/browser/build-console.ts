// Global setup of the browser project: build the console once (when stale) before any test file
// starts a runtime that serves it.
import { ensureConsoleBuilt } from '../../infra/local/console-files.ts';

export default async function setup() {
  await ensureConsoleBuilt((line) => process.stdout.write(`${line}\n`));
}
