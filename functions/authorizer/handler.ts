// API Gateway TOKEN authorizer. Authenticates only: the role check per route is in each function
// (functions/shared/http.ts), so one cached policy can cover the whole API.
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { provinceConfig, requireEnv } from '#shared/env';
import { logger } from '#shared/logger';
import { principalToContext } from '#shared/principal';
import { BEARER_HEADER } from './bearer.ts';
import { KeySetUnavailable, TokenRejected, tokenVerifier } from './verify.ts';

const bearer = new RegExp(BEARER_HEADER);

const verify = tokenVerifier({
  jwksUrl: requireEnv('JWKS_URL'),
  issuer: requireEnv('JWT_ISSUER'),
  audience: requireEnv('JWT_AUDIENCE'),
  province: provinceConfig().code,
  maxTokenAgeSeconds: provinceConfig().tokenMaxAgeHours * 3600,
});

/**
 * arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path> → every method and
 * path of that stage. API Gateway keeps the policy for the token (resultsCacheTtl) and checks every
 * later request against it: a policy naming one method would refuse the token's next PUT after a GET.
 */
export function wholeApi(methodArn: string): string {
  const [apiArn, stage] = methodArn.split('/') as [string, string];
  return `${apiArn}/${stage}/*`;
}

export async function handler(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const match = bearer.exec(event.authorizationToken ?? '');
  try {
    if (!match) throw new TokenRejected('ERR_NO_BEARER');
    const p = await verify(match[1]!);
    return {
      principalId: p.sub,
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: wholeApi(event.methodArn) }] },
      context: principalToContext(p),
    };
  } catch (err) {
    // Not the caller's fault: fail (a 500 the 5xx alarm counts), never 401 everyone in silence.
    if (err instanceof KeySetUnavailable) logger.error("the identity provider's key set is unavailable", { reason: err.message, jwksUrl: requireEnv('JWKS_URL') });
    if (!(err instanceof TokenRejected)) throw err;
    logger.info('token rejected', { reason: err.message });
    // API Gateway maps exactly this message to a 401 (the UNAUTHORIZED gateway response).
    throw new Error('Unauthorized');
  }
}
