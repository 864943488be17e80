// A webhook receiver for tests: an HTTP server on 127.0.0.1 that verifies every delivery with the
// Standard Webhooks reference library (`standardwebhooks`), never by hand, and records it. How it
// answers is up to the test: a status per delivery, or never (the request hangs until the sender
// gives up).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

export interface Received {
  /** webhook-id */
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The body as sent, to verify again with another secret. */
  body: string;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** What the receiver answered ('hang': nothing). */
  answered: number | 'hang';
}

export interface Receiver {
  url: string;
  /** The secret from POST /webhooks: deliveries are verified with it. */
  secret?: string;
  /** Verified deliveries, in order of arrival. */
  received: Received[];
  /** Requests that failed verification (wrong signature, stale timestamp, malformed). */
  refused: Array<{ headers: IncomingHttpHeaders; body: string; error: string }>;
  /** How to answer the n-th verified delivery (0-based): a status, or 'hang'. Default 204. */
  answer: (n: number, r: Omit<Received, 'answered'>) => number | 'hang' | { status: number; headers: Record<string, string> };
  close(): Promise<void>;
}

export async function startReceiver(path = '/hooks'): Promise<Receiver> {
  const hanging = new Set<import('node:http').ServerResponse>();
  const r: Receiver = {
    url: '',
    received: [],
    refused: [],
    answer: () => 204,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let payload: { type: string; timestamp: string; data: Record<string, string> };
      try {
        if (!r.secret) throw new Error('no secret yet');
        payload = new Webhook(r.secret).verify(body, req.headers as Record<string, string>) as typeof payload;
      } catch (err) {
        r.refused.push({ headers: req.headers, body, error: (err as Error).message });
        res.writeHead(400).end();
        return;
      }
      const delivery = { id: String(req.headers['webhook-id']), type: payload.type, timestamp: payload.timestamp, data: payload.data, headers: req.headers, body, at: Date.now() };
      const answer = r.answer(r.received.length, delivery);
      if (answer === 'hang') {
        r.received.push({ ...delivery, answered: 'hang' });
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
      r.received.push({ ...delivery, answered: status });
      res.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}${path}`;
  return r;
}
