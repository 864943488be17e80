// Family mutual aid (家庭共济): bindings of a payer and a beneficiary. The binding, a copy under each
// person (their lists) and the beneficiary's one payer pointer are written together; the pointer is
// conditional, so a person has at most one active payer however requests race. A settlement of the
// beneficiary reads the pointer (settle.ts) and debits the payer in its own transaction.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { familyBinding, type FamilyBinding } from '#schemas/family';
import { ddb, newestFirstPage, queryAll, tableName, writeTransaction, type TxItem } from '#shared/db';
import { problem } from '#shared/errors';
import { newId } from '#shared/ids';
import { outboxEvent, type EventContext } from '#shared/outbox';
import { FamilyBindingCreated, FamilyBindingRevoked } from '#events/vouchers';
import { bindingKey, mutualAidPayerKey, personBindingKey, personBindingsPrefix } from './keys.ts';

const bindingItem = z.object(familyBinding.shape);

const puts = (b: FamilyBinding, conditional: boolean): TxItem[] =>
  [bindingKey(b.bindingId), personBindingKey(b.payerPersonId, b.bindingId), personBindingKey(b.beneficiaryPersonId, b.bindingId)].map((key) => ({
    write: { Put: { TableName: tableName(), Item: { ...key, entity: 'family-binding', ...b }, ...(conditional ? { ConditionExpression: 'attribute_not_exists(PK)' } : {}) } },
  }));

const detail = (b: FamilyBinding) => ({ bindingId: b.bindingId, payerPersonId: b.payerPersonId, beneficiaryPersonId: b.beneficiaryPersonId, relation: b.relation });

/** The beneficiary already has this payer: the binding they share (a retry of the same request, or not). */
class SamePayer extends Error {
  constructor(readonly bindingId: string) {
    super('you already pay for this person');
  }
}

/**
 * Binds a payer and a beneficiary. The same request again (a retry after a lost answer) gets the
 * binding it made, `created: false`; the same pair under another relation is a conflict.
 */
export async function createBinding(
  input: { payerPersonId: string; beneficiaryPersonId: string; relation: FamilyBinding['relation'] },
  ctx: EventContext,
): Promise<{ binding: FamilyBinding; created: boolean }> {
  if (input.payerPersonId === input.beneficiaryPersonId) {
    throw problem('validation-failed', 'a person does not pay for themselves through a binding', [{ path: 'body.beneficiaryNationalId', message: 'the payer themselves' }]);
  }
  const b: FamilyBinding = { bindingId: newId('fam'), ...input, status: 'active', createdAt: ctx.now.toISOString() };
  try {
    await writeTransaction([
      {
        write: {
          Put: {
            TableName: tableName(),
            Item: { ...mutualAidPayerKey(b.beneficiaryPersonId), entity: 'mutual-aid-payer', bindingId: b.bindingId, payerPersonId: b.payerPersonId },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        onConditionFailed: (current) =>
          current?.payerPersonId === b.payerPersonId ? new SamePayer(String(current.bindingId)) : problem('conflict', 'this person already has a payer (at most one active binding)'),
      },
      ...puts(b, true),
      outboxEvent(FamilyBindingCreated, detail(b), ctx),
    ]);
    return { binding: b, created: true };
  } catch (err) {
    if (!(err instanceof SamePayer)) throw err;
    const existing = await getBinding(err.bindingId);
    if (existing?.status === 'active' && existing.relation === input.relation) return { binding: existing, created: false };
    throw problem('conflict', `you already pay for this person${existing ? ` (as ${existing.relation}); revoke that binding first` : ''}`);
  }
}

export async function getBinding(bindingId: string): Promise<FamilyBinding | undefined> {
  const { Item } = await ddb.send(new GetCommand({ TableName: tableName(), Key: bindingKey(bindingId), ConsistentRead: true }));
  return Item ? bindingItem.parse(Item) : undefined;
}

/** One page of the bindings a person pays for or is paid for by, newest first (binding ids are time-ordered). */
export async function bindingsPage(personId: string, limit: number, nextToken?: string): Promise<{ items: FamilyBinding[]; nextToken?: string }> {
  const { PK, skPrefix } = personBindingsPrefix(personId);
  return newestFirstPage(PK, { limit, nextToken, sortKeyPrefix: skPrefix }, (i) => bindingItem.parse(i));
}

/** Every binding a person pays for or is paid for by, newest first (the person's export). */
export async function bindingsOf(personId: string): Promise<FamilyBinding[]> {
  const { PK, skPrefix } = personBindingsPrefix(personId);
  const items = await queryAll({ TableName: tableName(), KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)', ExpressionAttributeValues: { ':pk': PK, ':sk': skPrefix } });
  return items.map((i) => bindingItem.parse(i)).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Ends an active binding: the payer pointer goes (a settlement racing this loses one way or the other). */
export async function revokeBinding(b: FamilyBinding, ctx: EventContext): Promise<FamilyBinding> {
  if (b.status !== 'active') throw problem('invalid-transition', 'the binding is already revoked');
  const revoked: FamilyBinding = { ...b, status: 'revoked', revokedAt: ctx.now.toISOString() };
  await writeTransaction([
    {
      write: {
        Delete: {
          TableName: tableName(),
          Key: mutualAidPayerKey(b.beneficiaryPersonId),
          ConditionExpression: 'bindingId = :b',
          ExpressionAttributeValues: { ':b': b.bindingId },
        },
      },
      onConditionFailed: () => problem('invalid-transition', 'the binding is already revoked'),
    },
    ...puts(revoked, false),
    outboxEvent(FamilyBindingRevoked, detail(revoked), ctx),
  ]);
  return revoked;
}
