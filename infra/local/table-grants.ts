// The local runtime's stand-in for IAM on the province table: a function may send only the commands
// its catalog entry grants (functions/catalog.ts `tableActions`, on the table and its declared
// indexes), as its role in AWS would. Without it a forgotten grant passes every local test and
// fails the first request in a province.
import type { FunctionDef } from '../../functions/catalog.ts';
import { tableActions } from '../../functions/catalog.ts';

/** The IAM action of each command, and of each kind of item in a transaction. */
const actionOf: Record<string, string> = {
  Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', BatchGet: 'BatchGetItem', BatchWrite: 'BatchWriteItem',
};

/** The IAM actions a command needs (a transaction's, one per kind of item), and the index it reads if any. */
export function actionsOf(commandName: string, input: Record<string, unknown>): { actions: string[]; index?: string } {
  const command = commandName.replace(/Command$/, '');
  const index = typeof input.IndexName === 'string' ? input.IndexName : undefined;
  // TransactWrite and TransactGet (TransactWriteItems, TransactGetItems in the low-level client).
  if (command.startsWith('Transact')) {
    const items = (input.TransactItems ?? []) as Array<Record<string, unknown>>;
    return { actions: [...new Set(items.flatMap((item) => Object.keys(item).map((k) => `dynamodb:${actionOf[k] ?? k}`)))] };
  }
  return { actions: [`dynamodb:${actionOf[command] ?? command}`], ...(index ? { index } : {}) };
}

/** Why `def`'s role would refuse the command (AWS's AccessDeniedException wording), or undefined. */
export function deniedBy(name: string, def: FunctionDef, commandName: string, input: Record<string, unknown>): string | undefined {
  const { actions, index } = actionsOf(commandName, input);
  const granted: readonly string[] = def.table ? tableActions[def.table] : [];
  const resource = index ? `table/index/${index}` : 'table';
  const missing = actions.find((a) => !granted.includes(a)) ?? (index && !(def.indexes as readonly string[] | undefined)?.includes(index) ? actions[0] : undefined);
  return missing && `function ${name} is not authorized to perform: ${missing} on resource: ${resource} (functions/catalog.ts grants ${def.table ?? 'no table access'}${def.indexes?.length ? ` and ${def.indexes.join(', ')}` : ''})`;
}
