// Voucher code verification tells a code that is not this province's (400, scan again) from a key
// that cannot be fetched (the platform's fault: thrown as it is, a 500). Secrets Manager failing is a
// fault the local endpoint cannot be made to give on demand, and the key version, once fetched, is
// cached for good: the secrets module is replaced here, nothing else.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loadProvince } from '../../infra/provinces/load.ts';
import { runtimePart } from '../../schemas/province.ts';
import { HttpProblem } from '../../functions/shared/errors.ts';

const secrets = vi.hoisted(() => ({
  key: { value: 'a-voucher-key-of-thirty-two-bytes', versionId: 'v-0123456789abcdef' },
  fault: undefined as Error | undefined,
}));
vi.mock('#shared/secrets', () => ({
  currentSecret: async () => secrets.key,
  secretVersion: async (_env: string, versionId: string) => {
    if (secrets.fault) throw secrets.fault;
    if (versionId !== secrets.key.versionId) throw Object.assign(new Error("Secrets Manager can't find the specified secret value."), { name: 'ResourceNotFoundException' });
    return secrets.key;
  },
}));
const { issueCode, verifyCode } = await import('../../functions/vouchers/codes.ts');

beforeAll(() => {
  process.env.PROVINCE_CONFIG = JSON.stringify(runtimePart(loadProvince('ZJ')));
});

const named = (name: string) => Object.assign(new Error(name), { name });
const refusal = (p: Promise<unknown>) => p.then(() => 'verified', (e: unknown) => (e instanceof HttpProblem ? `${e.status} ${e.slug}` : `thrown ${(e as Error).name}`));

describe('verifyCode', () => {
  it('verifies a code it issued; refuses one past its expiry (410) and one signed with a key version that is not there (400)', async () => {
    const now = new Date();
    const { code } = await issueCode('vch_1', 'per_1', now);
    expect(await verifyCode(code, now)).toMatchObject({ voucherId: 'vch_1', personId: 'per_1' });
    expect(await refusal(verifyCode(code, new Date(now.getTime() + 24 * 3_600_000)))).toBe('410 code-expired');
    const [, payload, signature] = code.split('.');
    const otherKid = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'voucher-code', kid: 'v-fedcba9876543210' })).toString('base64url');
    expect(await refusal(verifyCode(`${otherKid}.${payload}.${signature}`, now))).toBe('400 validation-failed');
    expect(await refusal(verifyCode('not-a-code', now))).toBe('400 validation-failed');
  });

  it('does not call a code invalid when the key cannot be fetched: the fault is thrown as it is', async () => {
    const now = new Date();
    const { code } = await issueCode('vch_2', 'per_2', now);
    for (const fault of ['ThrottlingException', 'InternalServiceError', 'TimeoutError']) {
      secrets.fault = named(fault);
      expect(await refusal(verifyCode(code, now))).toBe(`thrown ${fault}`);
    }
    secrets.fault = undefined;
    expect(await verifyCode(code, now)).toMatchObject({ voucherId: 'vch_2' });
  });
});
