// Optimistic concurrency over HTTP (RFC 9110 §8.8.3, §13.1.1): an object's ETag is its stored
// version in quotes, and a write with If-Match goes ahead only if the version named is still the
// current one. A version, not a hash of the body: one referral is represented differently to its
// two parties (allowedActions, whose users are shown), but it is one state, and that state is
// what If-Match protects.
import { problem } from './errors.ts';

export const etagOf = (version: number) => `"${version}"`;

const LIST = /^\s*(?:\*|(?:W\/)?"[\x21\x23-\x7E\x80-\xFF]*"(?:\s*,\s*(?:W\/)?"[\x21\x23-\x7E\x80-\xFF]*")*)\s*$/;

/**
 * Whether an If-Match header admits `version`: undefined when there is no header (v1 behaviour:
 * no precondition). `*` admits any existing object; otherwise one of the listed tags must equal the
 * current one by strong comparison, so a weak tag (W/"…") never matches. A header that is not an
 * entity-tag list is a 400.
 */
export function ifMatchAdmits(header: string | undefined, version: number): boolean | undefined {
  if (header === undefined || header === '') return undefined;
  if (header.length > 256 || !LIST.test(header)) {
    throw problem('validation-failed', 'If-Match must be "*" or a list of entity tags such as "3"', [{ path: 'headers.if-match', message: 'not an entity-tag list' }]);
  }
  if (header.trim() === '*') return true;
  const current = etagOf(version);
  return header.split(',').some((tag) => tag.trim() === current);
}
