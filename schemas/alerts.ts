// Operator alerts (API.md v2): things an operator should look at, by the province day they happened.
import * as z from 'zod';
import { calendarDate, institutionId, isoDateTime, page, pageQuery, patterned, serverId } from './common.ts';
import { authProblems, defineRoute } from './route.ts';

/**
 * trace-code-reused: a sold code settled again (refused); stock-hoarding: a prescriber holds much of a
 * district's stock; designation-withdrawn-kept: prescriptions a pharmacy keeps to finish after its
 * designation was withdrawn (paid for or partly dispensed), whose remaining packs it cannot settle.
 */
export const alertTypes = ['trace-code-reused', 'stock-hoarding', 'designation-withdrawn-kept'] as const;
export type AlertType = (typeof alertTypes)[number];

const detailName = patterned(64, /^[a-z][A-Za-z0-9]{0,63}$/, 'a camelCase name');
/** Ids, codes, district names: letters (any script), digits and a few separators. */
const detailValue = patterned(256, /^[\p{L}\p{N}_.:#-]{1,256}$/u, 'an id, a code or a name');
/** The longest list an alert's details hold (e.g. the trace codes of one settlement). */
export const MAX_ALERT_LIST = 200;

export const alert = z
  .object({
    alertId: serverId,
    type: z.enum(alertTypes),
    at: isoDateTime,
    /** The institution the alert is about (who tried to resell a code, who holds the stock). */
    institutionId,
    /** Ids, codes and figures that explain it; never personal data. */
    details: z.record(detailName, z.union([detailValue, z.number(), z.array(detailValue).max(MAX_ALERT_LIST)])),
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
    summary: 'Alerts of one province day (Asia/Shanghai), newest first: trace codes sold twice, a prescriber holding a large share of a district\'s stock, prescriptions kept at a pharmacy whose designation was withdrawn',
    query: pageQuery.extend({ date: calendarDate }),
    responses: { 200: page(alert).extend({ date: calendarDate }) },
    problems: ['validation-failed', ...authProblems],
  }),
] as const;
