// The console's security headers, stated once: the CloudFront response headers policy
// (infra/stack/console.ts) and the local runtime's file server both use them.

/** Content-Security-Policy: scripts and styles from the console's own files only (no 'unsafe-inline'). */
export function consoleCsp(o: { connect: readonly string[] }): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    // The API is on the console's origin; the identity provider's discovery and token endpoints are not.
    `connect-src 'self' ${o.connect.join(' ')}`.trim(),
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** The other headers, as plain values (HSTS is added where the console is served over HTTPS). */
export const consoleHeaders = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'camera=(self), microphone=(), geolocation=()',
} as const;

export const HSTS = 'max-age=63072000; includeSubDomains; preload';
