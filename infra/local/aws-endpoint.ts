// A small HTTP endpoint speaking the AWS JSON protocols for the services with no local emulator:
// EventBridge PutEvents, Secrets Manager GetSecretValue, KMS Encrypt and Decrypt (kms.ts), and the
// SQS calls functions make (queue.ts). The functions' unchanged SDK clients reach it through
// AWS_ENDPOINT_URL_EVENTBRIDGE / _SECRETS_MANAGER / _KMS / _SQS (and SQS queue URLs on it).
// It serves only requests signed (SigV4) with the runtime's local access key for this region and
// the operation's service: a web page or another program cannot read the secrets or inject events.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { LocalBus, PutEventsEntry } from './bus.ts';
import { KmsError, type LocalKms } from './kms.ts';
import { QueueError, type LocalQueue } from './queue.ts';

/** The credentials the runtime gives its functions (AWS_ACCESS_KEY_ID, region) and expects back. */
export interface LocalCredentialScope {
  accessKeyId: string;
  region: string;
}

const serviceOf: Record<string, string> = {
  'AWSEvents.PutEvents': 'events',
  'secretsmanager.GetSecretValue': 'secretsmanager',
  'TrentService.Encrypt': 'kms',
  'TrentService.Decrypt': 'kms',
  'AmazonSQS.SendMessage': 'sqs',
  'AmazonSQS.SendMessageBatch': 'sqs',
  'AmazonSQS.ChangeMessageVisibility': 'sqs',
  'AmazonSQS.DeleteMessage': 'sqs',
};

/** Queues by name: a queue URL is <endpoint>/<account>/<name>. */
export const queueUrlFor = (endpointUrl: string, name: string) => `${endpointUrl}/000000000000/${name}`;

/**
 * Checks the credential scope of the SigV4 Authorization header: `Credential=<key>/<date>/<region>/
 * <service>/aws4_request`. The signature itself is not verified: the local secret key is no secret
 * from anyone who can read the runtime's environment, who could also read DATA_DIR.
 */
function credentialProblem(req: IncomingMessage, target: string, scope: LocalCredentialScope): { status: number; type: string; message: string } | undefined {
  const auth = req.headers.authorization;
  if (!auth) return { status: 403, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const m = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request, ?SignedHeaders=[^,\s]+, ?Signature=[0-9a-f]{64}$/.exec(auth);
  if (!m || m[1] !== scope.accessKeyId) {
    return { status: 400, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  }
  if (m[3] !== scope.region || m[4] !== serviceOf[target]) {
    return { status: 400, type: 'InvalidSignatureException', message: `Credential should be scoped to region ${scope.region} and service ${serviceOf[target] ?? '?'}` };
  }
  return undefined;
}

export interface AwsEndpoint {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export interface LocalServices {
  kms?: LocalKms;
  queues?: Record<string, LocalQueue>;
}

export async function startAwsEndpoint(bus: LocalBus, secrets: Record<string, string>, scope: LocalCredentialScope, services: LocalServices = {}, port = 0): Promise<AwsEndpoint> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': target.startsWith('AmazonSQS.') ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (!serviceOf[target]) return reply(400, { __type: 'UnknownOperationException', message: `unsupported operation ${target}` });
      const denied = credentialProblem(req, target, scope);
      if (denied) return reply(denied.status, { __type: denied.type, message: denied.message });
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        return reply(400, { __type: 'SerializationException', message: 'invalid JSON' });
      }
      if (target === 'AWSEvents.PutEvents') {
        const entries = (input.Entries ?? []) as PutEventsEntry[];
        if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
          return reply(400, { __type: 'ValidationException', message: 'Entries must hold 1..10 entries' });
        }
        return reply(200, bus.putEvents(entries));
      }
      if (target === 'secretsmanager.GetSecretValue') {
        const id = String(input.SecretId ?? '');
        const value = secrets[id];
        // One version per secret locally, named after its value's hash (as stable as a real VersionId).
        const versionId = value === undefined ? '' : `v-${createHash('sha256').update(value).digest('hex').slice(0, 16)}`;
        if (value === undefined || (input.VersionId !== undefined && input.VersionId !== versionId)) {
          return reply(400, { __type: 'ResourceNotFoundException', message: `Secrets Manager can't find the specified secret value.` });
        }
        return reply(200, { ARN: `arn:aws:secretsmanager:local:000000000000:secret:${id}`, Name: id, SecretString: value, VersionId: versionId, CreatedDate: 0 });
      }
      if (target.startsWith('TrentService.') && services.kms) {
        try {
          return reply(200, target === 'TrentService.Encrypt' ? services.kms.encrypt(input) : services.kms.decrypt(input));
        } catch (err) {
          if (err instanceof KmsError) return reply(400, { __type: err.code, message: err.message });
          throw err;
        }
      }
      if (target.startsWith('AmazonSQS.')) {
        const name = String(input.QueueUrl ?? '').split('/').pop() ?? '';
        const queue = services.queues?.[name];
        // SQS's JSON protocol keeps the query protocol's error codes in a header the SDK reads.
        const sqsError = (code: string, message: string) => {
          res.setHeader('x-amzn-query-error', `${code};Sender`);
          return reply(400, { __type: `com.amazonaws.sqs#${code}`, message });
        };
        if (!queue) return sqsError('QueueDoesNotExist', `The specified queue does not exist: ${name}`);
        try {
          if (target === 'AmazonSQS.SendMessage') return reply(200, queue.send(String(input.MessageBody ?? ''), Number(input.DelaySeconds ?? 0)));
          if (target === 'AmazonSQS.SendMessageBatch') {
            const entries = (input.Entries ?? []) as Array<{ Id: string; MessageBody: string; DelaySeconds?: number }>;
            if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) return sqsError('AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 'Entries must hold 1..10 entries');
            return reply(200, { Successful: entries.map((e) => ({ Id: e.Id, ...queue.send(e.MessageBody, e.DelaySeconds ?? 0) })), Failed: [] });
          }
          if (target === 'AmazonSQS.ChangeMessageVisibility') {
            queue.changeVisibility(String(input.ReceiptHandle ?? ''), Number(input.VisibilityTimeout));
            return reply(200, {});
          }
          if (target === 'AmazonSQS.DeleteMessage') {
            queue.deleteMessage(String(input.ReceiptHandle ?? ''));
            return reply(200, {});
          }
        } catch (err) {
          if (err instanceof QueueError) return sqsError(err.code, err.message);
          throw err;
        }
      }
      return reply(400, { __type: 'UnknownOperationException', message: `unsupported operation ${target}` });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    server,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
