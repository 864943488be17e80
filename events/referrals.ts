// Events of the referrals context.
export {};
