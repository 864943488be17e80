// The referral actions the caller may take now. Until the API says so itself (allowedActions on
// every referral, issue #12), they come from the one transition table in the referrals domain
// module (pure: no AWS), never from a second copy here. #12 switches this one module over.
import { partyOf, transitions } from '../../../functions/referrals/domain.ts';
import type { Referral } from '#schemas/referrals';

export type ReferralAction = Exclude<keyof typeof transitions, 'expire'>;

export function allowedActions(r: Pick<Referral, 'status' | 'fromInstitutionId' | 'toInstitutionId'>, institutionId: string | undefined): ReferralAction[] {
  const party = partyOf(r, institutionId);
  if (!party) return [];
  return (Object.entries(transitions) as Array<[keyof typeof transitions, (typeof transitions)[keyof typeof transitions]]>)
    .filter(([, t]) => (t.by as readonly string[]).includes(party) && (t.from as readonly string[]).includes(r.status))
    .map(([action]) => action as ReferralAction);
}

export const actionLabel: Record<ReferralAction, string> = {
  accept: '接收', reject: '拒绝', reroute: '改派', arrive: '登记到诊', complete: '完成诊疗', cancel: '撤销转诊',
};
