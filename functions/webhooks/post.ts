// One delivery attempt over HTTP(S): POST to the address url-guard checked (the request's own DNS
// lookup is replaced, so nothing is resolved twice), the URL's host name kept for the Host header
// and TLS (SNI and certificate check), one deadline for connecting, sending and the answer's head,
// redirects never followed, and no byte of the answer's body read: only its status counts.
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { AttemptOutcome } from './policy.ts';
import type { CheckedUrl, ResolvedAddress } from './url-guard.ts';

const describe = (err: NodeJS.ErrnoException): string => {
  switch (err.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': return 'connection reset';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable';
    case 'EPIPE': return 'connection closed while sending';
    default: return err.code?.startsWith('ERR_TLS') || err.code?.includes('CERT') ? `TLS: ${err.code}` : `connection failed (${err.code ?? 'error'})`;
  }
};

export function postTo(
  target: CheckedUrl,
  address: ResolvedAddress,
  message: { headers: Record<string, string>; body: string },
  timeoutMs: number,
  /** The attempt's whole deadline, as the receiver's staff read it ("no answer within 5 s"), when
   * lookups already used part of it and `timeoutMs` is what is left. */
  deadlineSeconds = timeoutMs / 1000,
): Promise<AttemptOutcome> {
  const started = Date.now();
  const { url } = target;
  // Connect to the checked address, whatever the resolver would say now.
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
  return new Promise((resolve) => {
    let settled = false;
    const finish = (o: Omit<AttemptOutcome, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      resolve({ ...o, durationMs: Date.now() - started });
    };
    const req = (url.protocol === 'https:' ? https : http).request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(message.body), 'user-agent': 'consortium-webhooks/1', ...message.headers },
      lookup: pinned,
      // A connection per attempt: nothing pooled across receivers.
      agent: false,
    });
    const deadline = setTimeout(() => finish({ ok: false, error: `no answer within ${Number(deadlineSeconds.toFixed(1))} s` }), timeoutMs);
    req.on('response', (res) => {
      const statusCode = res.statusCode ?? 0;
      // The body is never read: the socket closes with the answer's head.
      res.on('error', () => undefined);
      if (statusCode >= 300 && statusCode < 400) finish({ ok: false, statusCode, error: 'redirect not followed' });
      else finish({ ok: statusCode >= 200 && statusCode < 300, statusCode });
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: describe(err) }));
    req.end(message.body);
  });
}
