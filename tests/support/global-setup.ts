// Makes sure DynamoDB Local is unpacked and its launcher compiled before test workers start, so
// that files starting their engines at once do not race to fetch it (tests/support/runtime.ts).
import { ensureLoopbackLauncher } from '../../infra/local/dynamodb-local.ts';

export default function setup() {
  ensureLoopbackLauncher();
}
