// The local runtime's stand-in for the functions' IAM on the table (infra/local/table-grants.ts):
// what each command needs, and what a catalog entry grants. The e2e suites then run every function
// under it.
import { describe, expect, it } from 'vitest';
import { functionCatalog, type FunctionDef } from '../../functions/catalog.ts';
import { actionsOf, deniedBy } from '../../infra/local/table-grants.ts';

const readOnly: FunctionDef = { entry: 'x.ts', description: 'x', kind: 'api', table: 'read', indexes: ['GSI1'] };
const writer: FunctionDef = { ...readOnly, table: 'readwrite' };
const noTable: FunctionDef = { entry: 'x.ts', description: 'x', kind: 'api' };

describe('table grants', () => {
  it('names the action of each command, each item of a transaction, and the index a query reads', () => {
    expect(actionsOf('GetCommand', {})).toEqual({ actions: ['dynamodb:GetItem'] });
    expect(actionsOf('QueryCommand', { IndexName: 'GSI2' })).toEqual({ actions: ['dynamodb:Query'], index: 'GSI2' });
    expect(actionsOf('BatchWriteCommand', {})).toEqual({ actions: ['dynamodb:BatchWriteItem'] });
    expect(actionsOf('TransactWriteCommand', { TransactItems: [{ Put: {} }, { ConditionCheck: {} }, { Put: {} }] })).toEqual({
      actions: ['dynamodb:PutItem', 'dynamodb:ConditionCheckItem'],
    });
    expect(actionsOf('TransactGetCommand', { TransactItems: [{ Get: {} }] })).toEqual({ actions: ['dynamodb:GetItem'] });
  });

  it('refuses what the role would: writes from a reader, an index not declared, any table access without a grant, a scan', () => {
    expect(deniedBy('f', readOnly, 'QueryCommand', { IndexName: 'GSI1' })).toBeUndefined();
    expect(deniedBy('f', readOnly, 'GetCommand', {})).toBeUndefined();
    expect(deniedBy('f', readOnly, 'PutCommand', {})).toMatch(/not authorized to perform: dynamodb:PutItem on resource: table/);
    expect(deniedBy('f', readOnly, 'TransactWriteCommand', { TransactItems: [{ ConditionCheck: {} }, { Update: {} }] })).toMatch(/dynamodb:UpdateItem/);
    expect(deniedBy('f', writer, 'TransactWriteCommand', { TransactItems: [{ ConditionCheck: {} }, { Update: {} }] })).toBeUndefined();
    expect(deniedBy('f', writer, 'QueryCommand', { IndexName: 'GSI2' })).toMatch(/dynamodb:Query on resource: table\/index\/GSI2 \(functions\/catalog.ts grants readwrite and GSI1\)/);
    expect(deniedBy('f', noTable, 'GetCommand', {})).toMatch(/grants no table access/);
    expect(deniedBy('f', writer, 'ScanCommand', {})).toMatch(/dynamodb:Scan/);
  });

  it('the prescription router and the stock watch may read a district\'s pharmacies (GSI2)', () => {
    expect(deniedBy('prescriptionRouter', functionCatalog.prescriptionRouter, 'QueryCommand', { IndexName: 'GSI2' })).toBeUndefined();
    expect(deniedBy('stockWatch', functionCatalog.stockWatch, 'QueryCommand', { IndexName: 'GSI2' })).toBeUndefined();
  });
});
