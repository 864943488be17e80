// Who is calling. The authorizer (functions/authorizer) verifies the JWT and passes these claims
// as its context; handlers read them from requestContext.authorizer and never see the token.
import * as z from 'zod';
import { role, serverId } from '#schemas/common';
import { tokenSubject } from '#schemas/route';

export const principal = z
  .object({
    sub: tokenSubject,
    role,
    inst: z.string().min(1).optional(),
    prov: z.string().min(1),
    /** A channel app acting for one person it has verified (real-name check in the app): that personId. */
    pid: serverId.optional(),
  })
  .refine((p) => p.role === 'operator' || p.role === 'channel' || !!p.inst, 'institution roles need inst')
  .refine((p) => p.pid === undefined || p.role === 'channel', 'only channel tokens act for a person (pid)');
export type Principal = z.infer<typeof principal>;

/** The authorizer context is a flat string map; empty strings stand for absent claims. */
export function principalFromContext(ctx: Record<string, unknown> | null | undefined): Principal | undefined {
  if (!ctx) return undefined;
  const parsed = principal.safeParse({
    sub: ctx.sub,
    role: ctx.role,
    inst: ctx.inst || undefined,
    prov: ctx.prov,
    pid: ctx.pid || undefined,
  });
  return parsed.success ? parsed.data : undefined;
}

export function principalToContext(p: Principal): Record<string, string> {
  return { sub: p.sub, role: p.role, inst: p.inst ?? '', prov: p.prov, pid: p.pid ?? '' };
}
