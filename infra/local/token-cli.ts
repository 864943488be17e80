// `npm run --silent token -- --role <role> [--institution <id>] [--person <personId>] [--ttl <seconds>] [--subject <sub>]`: prints a JWT
// the local runtime on the same DATA_DIR accepts, and nothing else. The lifetime defaults to (and
// may not exceed) the province's tokenMaxAgeHours, the age past which the authorizer refuses it.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { role as roleSchema } from '../../schemas/common.ts';
import { loadProvince } from '../provinces/load.ts';
import { loadOrCreateKeys, signToken } from './dev-issuer.ts';
import { projectRoot } from './dynamodb-local.ts';

const usage = 'usage: npm run --silent token -- --role <operator|channel|clinic|hospital|pharmacy> [--institution <id>] [--person <personId> (channel)] [--ttl <seconds>] [--subject <staff member>]';
try {
  const { values } = parseArgs({
    options: { role: { type: 'string' }, institution: { type: 'string' }, person: { type: 'string' }, ttl: { type: 'string' }, subject: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  // Asked for: the usage on stdout, and success (a script piping the token never passes --help).
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const role = roleSchema.safeParse(values.role);
  if (!role.success) throw new Error(usage);
  if (['clinic', 'hospital', 'pharmacy'].includes(role.data) && !values.institution) {
    throw new Error(`--institution is required for role ${role.data}\n${usage}`);
  }
  if (values.person !== undefined && (role.data !== 'channel' || !/^[A-Za-z0-9_-]{4,64}$/.test(values.person))) {
    throw new Error(`--person takes a personId and goes with --role channel (an app acting for that person)\n${usage}`);
  }
  const province = loadProvince(process.env.PROVINCE ?? 'ZJ');
  const keys = await loadOrCreateKeys(resolve(process.env.DATA_DIR ?? join(projectRoot, '.data')));
  const ttl = values.ttl ? Number(values.ttl) : undefined;
  const maxAge = province.tokenMaxAgeHours * 3600;
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0 && ttl <= maxAge)) {
    throw new Error(`--ttl must be 1..${maxAge} seconds (province ${province.code} accepts tokens up to ${province.tokenMaxAgeHours} h old)`);
  }
  process.stdout.write(
    `${await signToken(keys, { role: role.data, institution: values.institution, person: values.person, province, ttlSeconds: ttl, subject: values.subject })}\n`,
  );
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
