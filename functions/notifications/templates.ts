// Event → SMS template table. A context makes one of its events patient-facing by adding a row
// here: the subscription (events/subscriptions.ts) and the notifier's validation follow from this
// table. Texts are Chinese SMS bodies; they name institutions and times, never the patient.
// Pure (no AWS): the notifier supplies the names and times through `Names`.
import type { Detail, EventDef } from '../../events/catalog.ts';
import {
  ReferralAccepted, ReferralCancelled, ReferralExpired, ReferralRejected, ReferralRerouted, ReferralSubmitted,
} from '../../events/referrals.ts';

export interface Names {
  institution(id: string): string;
  /** Department name at that institution (the code when unknown). */
  department(institutionId: string, code: string): string;
  /** An instant as the patient reads it: date and time in the province's time zone. */
  time(iso: string): string;
}

export interface NotificationTemplate<E extends EventDef = EventDef> {
  readonly event: E;
  /** The person told (every templated event carries one). */
  readonly personId: (d: Detail<E>) => string;
  /** The text, or undefined when this occurrence tells the patient nothing new. */
  readonly text: (d: Detail<E>, n: Names) => string | undefined;
}

/** Keeps each row's detail typed by its own event, then erases it for the table. */
const row = <E extends EventDef>(t: NotificationTemplate<E>) => t as unknown as NotificationTemplate;

const SIGN = '【医联体】';
const receiverWord = (direction: 'up' | 'down') => (direction === 'up' ? '医院' : '社区卫生服务中心');

export const notificationTemplates: readonly NotificationTemplate[] = [
  // ── referrals ──
  row({
    event: ReferralSubmitted,
    personId: (d) => d.personId,
    text: (d, n) =>
      d.direction === 'up'
        ? `${SIGN}您好，${n.institution(d.fromInstitutionId)}已为您申请转诊至${n.institution(d.toInstitutionId)}${n.department(d.toInstitutionId, d.department)}，待医院确认后将短信通知您就诊时间。`
        : `${SIGN}您好，${n.institution(d.fromInstitutionId)}已为您办理转回${n.institution(d.toInstitutionId)}继续治疗和随访，待确认后将短信通知您复诊时间。`,
  }),
  row({
    event: ReferralAccepted,
    personId: (d) => d.personId,
    text: (d, n) =>
      `${SIGN}${n.institution(d.toInstitutionId)}${n.department(d.toInstitutionId, d.department)}已接收您的转诊，就诊时间：${n.time(d.appointmentAt)}。请携带身份证件按时就诊。`,
  }),
  row({
    event: ReferralRejected,
    personId: (d) => d.personId,
    text: (d, n) => `${SIGN}${n.institution(d.toInstitutionId)}暂时无法接收您的转诊，${n.institution(d.fromInstitutionId)}将为您另行安排，请留意后续短信。`,
  }),
  row({
    event: ReferralRerouted,
    personId: (d) => d.personId,
    text: (d, n) =>
      `${SIGN}您的转诊已改派至${n.institution(d.toInstitutionId)}${n.department(d.toInstitutionId, d.department)}，待${receiverWord(d.direction)}确认后将短信通知您就诊时间。`,
  }),
  row({
    event: ReferralExpired,
    personId: (d) => d.personId,
    // Re-routed in the same sweep: the ReferralRerouted message says all there is to say.
    text: (d, n) =>
      d.reroutedTo
        ? undefined
        : `${SIGN}您的转诊未能在规定时间内得到${n.institution(d.expiredAtInstitutionId)}确认，${n.institution(d.fromInstitutionId)}将为您另行安排，请留意后续短信。`,
  }),
  row({
    event: ReferralCancelled,
    personId: (d) => d.personId,
    text: (d, n) =>
      `${SIGN}您在${n.institution(d.toInstitutionId)}${n.department(d.toInstitutionId, d.department)}的转诊已取消，如有疑问请联系${n.institution(d.fromInstitutionId)}。`,
  }),
  // ── prescriptions ──
];

export const notifiedEvents: readonly EventDef[] = notificationTemplates.map((t) => t.event);
