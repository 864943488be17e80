// Events of the vouchers context.
export {};
