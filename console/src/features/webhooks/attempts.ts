// A delivery attempt's outcome as the platform records it (functions/webhooks/post.ts and
// url-guard.ts write it in English, for logs and the API) in the words of the IT staff at a desk.
import type { WebhookDelivery } from '#schemas/webhooks';

type Attempt = WebhookDelivery['attempts'][number];

const fixed: Record<string, string> = {
  'connection refused': '连接被拒绝',
  'connection reset': '连接被重置',
  'host unreachable': '主机不可达',
  'connection closed while sending': '发送时连接被关闭',
};

/** Why an address was refused (url-guard.ts refusedAddress), where the words are known. */
const refusedWhy: Array<[RegExp, string]> = [
  [/^not a URL$/, '地址格式无效'],
  [/^must be an https:\/\/ URL$/, '须为 https:// 地址'],
  [/^must not carry a user name or password$/, '地址中不能包含用户名或密码'],
  [/^(.+) does not resolve$/, '域名 $1 无法解析'],
  [/^(.+) did not resolve within (\d+) ms$/, '域名 $1 在 $2 毫秒内未解析'],
  [/^(.+?) (?:is|resolves to [^,]+,) (?:a private address|a loopback address|a link-local address|a unique-local \(private\) IPv6 address|a shared \(carrier-grade NAT\) address)$/, '$1 指向内网或本机地址'],
  [/^(.+?) (?:is|resolves to [^,]+,) a cloud metadata service address$/, '$1 指向云元数据服务地址'],
  [/^(.+?) (?:is|resolves to [^,]+,) .+$/, '$1 不是可从公网访问的地址'],
];

export function attemptText(a: Attempt): string {
  if (a.error === 'redirect not followed') return `HTTP ${a.statusCode}（重定向，不跟随）`;
  if (a.statusCode) return `HTTP ${a.statusCode}`;
  const error = a.error ?? '';
  const timeout = /^no answer within ([\d.]+) s$/.exec(error);
  if (timeout) return `${timeout[1]} 秒内无响应`;
  if (fixed[error]) return fixed[error]!;
  const tls = /^TLS: (.+)$/.exec(error);
  if (tls) return `TLS 握手失败，请检查证书（${tls[1]}）`;
  const failed = /^connection failed \((.+)\)$/.exec(error);
  if (failed) return `连接失败（${failed[1]}）`;
  if (error.startsWith('refused: ')) {
    const why = error.slice('refused: '.length);
    const known = refusedWhy.find(([re]) => re.test(why));
    return `地址被拒绝：${known ? why.replace(known[0], known[1]) : why}`;
  }
  return error || '—';
}
