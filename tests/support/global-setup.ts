// Makes sure DynamoDB Local is unpacked, its launcher built and its class-data archive trained before
// test workers start, so that files starting their engines at once do not race to make them
// (tests/support/runtime.ts, infra/local/engine-archive.ts).
import { ensureEngineArchive } from '../../infra/local/engine-archive.ts';

export default async function setup() {
  await ensureEngineArchive();
}
