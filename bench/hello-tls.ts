// A third baseline: a handler that only loads what any call to an AWS API needs from Node itself,
// TLS (node:https) and hashing (node:crypto), as the SDK and jose load them. The gap between it and
// hello-world is Node's own share of a cold start, which no bundling choice of ours can remove.
import { createHash } from 'node:crypto';
import { request } from 'node:https';

export const handler = async () => ({ statusCode: 200, body: String(!!request && !!createHash) });
