// Operator alerts (API.md v2): things an operator should look at, by the province day they happened.
import * as z from 'zod';
import { calendarDate, institutionId, isoDateTime, page, pageQuery, serverId } from './common.ts';
import { authProblems, defineRoute } from './route.ts';

export const alertTypes = ['trace-code-reused', 'stock-hoarding'] as const;
export type AlertType = (typeof alertTypes)[number];

/** The longest list an alert's details hold (e.g. the trace codes of one settlement). */
const MAX_ALERT_LIST = 200;

export const alert = z
  .object({
    alertId: serverId,
    type: z.enum(alertTypes),
    at: isoDateTime,
    /** The institution the alert is about (who tried to resell a code, who holds the stock). */
    institutionId,
    /** Ids, codes and figures that explain it; never personal data. */
    details: z.record(z.string().max(64), z.union([z.string().max(256), z.number(), z.array(z.string().max(64)).max(MAX_ALERT_LIST)])),
  })
  .meta({ id: 'Alert' });
export type Alert = z.infer<typeof alert>;

export const alertRoutes = [
  defineRoute({
    operationId: 'listAlerts',
    method: 'GET',
    path: '/alerts',
    fn: 'institutions',
    auth: ['operator'],
    tag: 'operator',
    summary: 'Alerts of one province day (Asia/Shanghai), oldest first: trace codes sold twice, a prescriber holding a large share of a district\'s stock',
    query: pageQuery.extend({ date: calendarDate }),
    responses: { 200: page(alert).extend({ date: calendarDate }) },
    problems: ['validation-failed', ...authProblems],
  }),
] as const;
