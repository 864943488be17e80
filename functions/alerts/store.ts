// Writing and listing operator alerts. Any context raises one (`raiseAlert`, a transaction item);
// the operator lists them by day (GET /alerts).
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { alert, type Alert, type AlertType } from '#schemas/alerts';
import { calendarDay } from '#shared/clock';
import { ddb, decodeToken, encodeToken, tableName, writeTransaction, type TxItem } from '#shared/db';
import { provinceConfig } from '#shared/env';
import { newId } from '#shared/ids';
import { alertKey, alertOnceKey, alertPartition } from './keys.ts';

const alertItem = z.object(alert.shape);

class AlreadyRaised extends Error {}

/**
 * The writes of one alert. With `once`, a subject (e.g. prescriber, district, drug and day) raises at
 * most one alert: the transaction fails with AlreadyRaised (see `isAlreadyRaised`) the second time.
 */
export function raiseAlert(a: { type: AlertType; institutionId: string; details: Alert['details']; now: Date; once?: string }): TxItem[] {
  const at = a.now.toISOString();
  const item: Alert = { alertId: newId('alr'), type: a.type, at, institutionId: a.institutionId, details: a.details };
  const day = calendarDay(a.now, provinceConfig().timeZone);
  return [
    ...(a.once
      ? [
          {
            write: { Put: { TableName: tableName(), Item: { ...alertOnceKey(a.once), alertId: item.alertId, expiresAt: Math.floor(a.now.getTime() / 1000) + 400 * 86_400 }, ConditionExpression: 'attribute_not_exists(PK)' } },
            onConditionFailed: () => new AlreadyRaised(),
          } satisfies TxItem,
        ]
      : []),
    { write: { Put: { TableName: tableName(), Item: { ...alertKey(day, at, item.alertId), entity: 'alert', ...item } } } },
  ];
}

export const isAlreadyRaised = (err: unknown) => err instanceof AlreadyRaised;

/** Raises an alert on its own (a consumer's finding, `once` its subject); false when it was raised before. */
export async function raiseAlertOnce(a: Parameters<typeof raiseAlert>[0] & { once: string }): Promise<boolean> {
  try {
    await writeTransaction(raiseAlert(a));
    return true;
  } catch (err) {
    if (isAlreadyRaised(err)) return false;
    throw err;
  }
}

export async function listAlerts(day: string, limit: number, nextToken?: string) {
  const partition = { PK: alertPartition(day) };
  const res = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': partition.PK },
      // Newest first: the operator on call looks for what just happened.
      ScanIndexForward: false,
      Limit: limit,
      ExclusiveStartKey: decodeToken(nextToken, partition),
    }),
  );
  return { items: (res.Items ?? []).map((i) => alertItem.parse(i)), nextToken: encodeToken(res.LastEvaluatedKey) };
}
