// The Authorization header the API takes, stated once: the stack's gateway checks it before calling
// the authorizer (a header that does not match is a 401 without a Lambda call), the local gateway
// does the same, and the authorizer reads the token from its group. The scheme's name is
// case-insensitive (RFC 9110 §11.1), spelled out because the gateway's regex takes no flags.
export const BEARER_HEADER = '^[Bb][Ee][Aa][Rr][Ee][Rr] +([-0-9A-Za-z_.]+)$';
