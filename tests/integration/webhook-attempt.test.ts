// One delivery attempt against real sockets on this machine (loopback only): the connection goes to
// the address that was checked, redirects are not followed, the deadline holds, the answer's body is
// not read; and the system resolver's answer for localhost is refused.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { postTo } from '../../functions/webhooks/post.ts';
import { checkUrl, resolveChecked, type Lookup } from '../../functions/webhooks/url-guard.ts';

describe('receiver names', () => {
  it('refuses the names that point at this machine with the real resolver (localhost)', async () => {
    await expect(resolveChecked(checkUrl('https://localhost:8443/hook', []), { timeoutMs: 2000 })).rejects.toThrow(/localhost resolves to .*loopback/);
  });
});

describe('an attempt', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
  const serve = async (handle: Parameters<typeof createServer>[1]) => {
    const seen: Array<{ host?: string; body: string }> = [];
    const s = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        seen.push({ host: req.headers.host, body });
        handle!(req, res);
      });
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return { port: (s.address() as { port: number }).port, seen };
  };
  const local = { address: '127.0.0.1', family: 4 as const };
  const message = { headers: { 'webhook-id': 'msg_x' }, body: '{"type":"X"}' };

  it('connects to the address that was checked: the name is never resolved again (no rebinding between check and connect)', async () => {
    const { port, seen } = await serve((_q, res) => res.writeHead(204).end());
    // `rebind.test` resolves nowhere on this machine: the POST can only reach the receiver through the checked address.
    let lookups = 0;
    const lookup: Lookup = async () => {
      lookups++;
      return [lookups === 1 ? local : { address: '127.0.0.2', family: 4 }];
    };
    const target = checkUrl(`http://rebind.test:${port}/hook`, ['rebind.test']);
    const address = await resolveChecked(target, { lookup, timeoutMs: 1000 });
    const outcome = await postTo(target, address, message, 2000);
    expect(outcome).toMatchObject({ ok: true, statusCode: 204 });
    expect(lookups).toBe(1);
    expect(seen).toEqual([{ host: `rebind.test:${port}`, body: message.body }]);
  });

  it('does not follow a redirect', async () => {
    const elsewhere = await serve((_q, res) => res.writeHead(200).end());
    const { port } = await serve((_q, res) => res.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/` }).end());
    const outcome = await postTo(checkUrl(`http://127.0.0.1:${port}/`, ['127.0.0.1']), local, message, 2000);
    expect(outcome).toMatchObject({ ok: false, statusCode: 302, error: 'redirect not followed' });
    expect(elsewhere.seen).toEqual([]);
  });

  it('gives up at its deadline when the receiver never answers', async () => {
    const { port } = await serve(() => undefined);
    const outcome = await postTo(checkUrl(`http://127.0.0.1:${port}/`, ['127.0.0.1']), local, message, 300);
    expect(outcome).toMatchObject({ ok: false, error: 'no answer within 0.3 s' });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
    expect(outcome.durationMs).toBeLessThan(2000);
  });

  it('reads nothing of the answer\'s body: an endless one ends the attempt with its status', async () => {
    let written = 0;
    const { port } = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && written < 1024 ** 3) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('error', () => undefined);
      pump();
    });
    const outcome = await postTo(checkUrl(`http://127.0.0.1:${port}/`, ['127.0.0.1']), local, message, 2000);
    expect(outcome).toMatchObject({ ok: true, statusCode: 200 });
    // The socket closed with the head: the receiver could push no more than what socket buffers hold.
    await new Promise((r) => setTimeout(r, 200));
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('counts a refused connection and a 500 as failures', async () => {
    const { port } = await serve((_q, res) => res.writeHead(500).end());
    expect(await postTo(checkUrl(`http://127.0.0.1:${port}/`, ['127.0.0.1']), local, message, 2000)).toMatchObject({ ok: false, statusCode: 500 });
    const closed = await serve(() => undefined);
    const closedPort = closed.port;
    servers.pop()!.close();
    expect(await postTo(checkUrl(`http://127.0.0.1:${closedPort}/`, ['127.0.0.1']), local, message, 2000)).toMatchObject({ ok: false, error: 'connection refused' });
  });
});
