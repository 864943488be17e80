// Receiver URLs against server-side request forgery. A subscriber names the URL, so the platform
// must never be made to call into a private network or a cloud metadata service: https only, to a
// host whose every address is public unicast, checked when the subscription is made and again at
// each attempt, after DNS resolution. The sender then connects to the address it checked (post.ts),
// so a DNS answer that changes between the check and the connection (rebinding) cannot redirect
// it, and redirects are never followed. Hosts the province config allows (the local runtime:
// 127.0.0.1) may use http and skip the address check. Addresses are classified with ipaddr.js.
import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** A resolver (the system's getaddrinfo by default; tests inject a DNS answer they cannot get otherwise). */
export type Lookup = (hostname: string) => Promise<ResolvedAddress[]>;
export const systemLookup: Lookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** The URL may not be called; the message says why, for the owner (never a secret). */
export class UrlRefused extends Error {
  override name = 'UrlRefused';
}

/** Addresses of instance metadata services (AWS IPv4 and IPv6, ECS tasks, Alibaba Cloud). */
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254', '169.254.170.2', '100.100.100.200']);

const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

const rangeWords: Record<string, string> = {
  private: 'a private address',
  loopback: 'a loopback address',
  linkLocal: 'a link-local address',
  uniqueLocal: 'a unique-local (private) IPv6 address',
  carrierGradeNat: 'a shared (carrier-grade NAT) address',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
};

/** Why an address may not be called, or undefined for a public unicast one. */
export function refusedAddress(address: string): string | undefined {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return 'not an IP address';
  }
  // ::ffff:10.0.0.1 is 10.0.0.1.
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  if (METADATA.has(ip.toNormalizedString()) || METADATA.has(ip.toString())) return 'a cloud metadata service address';
  const range = ip.range();
  // Everything but plain unicast: also NAT64, 6to4 and Teredo, which can carry a private IPv4 address.
  if (range !== 'unicast') return rangeWords[range] ?? `a reserved address (${range})`;
  // ipaddr.js calls ::7f00:1 (IPv4-compatible ::127.0.0.1) and the rest of ::/8 unicast: only the
  // global unicast block is public.
  if (ip.kind() === 'ipv6' && !(ip as ipaddr.IPv6).match(GLOBAL_UNICAST)) return 'not a global unicast IPv6 address';
  return undefined;
}

/** The URL's host without the brackets of an IPv6 literal. */
const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

export interface CheckedUrl {
  url: URL;
  /** A host the province allows as it is: http permitted, addresses not checked. */
  allowedHost: boolean;
}

/** What can be checked without the network: scheme, credentials, literal addresses. */
export function checkUrl(raw: string, allowedHosts: readonly string[]): CheckedUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefused('not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UrlRefused('must be an https:// URL');
  if (url.username || url.password) throw new UrlRefused('must not carry a user name or password');
  const allowedHost = allowedHosts.includes(url.hostname);
  if (url.protocol !== 'https:' && !allowedHost) throw new UrlRefused('must be an https:// URL');
  const host = bareHost(url);
  if (!allowedHost && ipaddr.isValid(host)) {
    const why = refusedAddress(host);
    if (why) throw new UrlRefused(`${host} is ${why}`);
  }
  return { url, allowedHost };
}

/**
 * The address to connect to: the host's addresses, each checked (one refused address refuses the
 * URL: a name that also points inside is not a public host). For an allowed host or a literal
 * address, the host itself.
 */
export async function resolveChecked(checked: CheckedUrl, o: { lookup?: Lookup; timeoutMs: number }): Promise<ResolvedAddress> {
  const host = bareHost(checked.url);
  if (ipaddr.isValid(host)) return { address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 };
  if (checked.allowedHost) {
    // Allowed names are resolved as they are, unchecked: the province chose them.
    const [first] = await withTimeout((o.lookup ?? systemLookup)(host), o.timeoutMs, host);
    if (!first) throw new UrlRefused(`${host} does not resolve`);
    return first;
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await withTimeout((o.lookup ?? systemLookup)(host), o.timeoutMs, host);
  } catch (err) {
    if (err instanceof UrlRefused) throw err;
    throw new UrlRefused(`${host} does not resolve`);
  }
  if (!addresses.length) throw new UrlRefused(`${host} does not resolve`);
  for (const a of addresses) {
    const why = refusedAddress(a.address);
    if (why) throw new UrlRefused(`${host} resolves to ${a.address}, ${why}`);
  }
  return addresses[0]!;
}

async function withTimeout<T>(p: Promise<T>, ms: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new UrlRefused(`${host} did not resolve within ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
