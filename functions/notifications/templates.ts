// Event → message template table. A context makes one of its events notify someone by adding a
// row here (several rows may share an event): the subscription (events/subscriptions.ts) and the
// notifier's validation follow from this table. A row tells the patient (an SMS to the masked
// number on file) or an institution (a message for its HIS inbox). Texts are Chinese; they name
// institutions, departments and times, never the patient. Pure (no AWS): the notifier supplies
// names and times through `Names`.
import type { Detail, EventDef } from '../../events/catalog.ts';
import { AdviceAnswered, AdviceClosed, AdviceExpired, AdviceRequested, AdviceRerouted } from '../../events/advice.ts';
import { PrescriptionReady, PrescriptionRouted, PrescriptionUnroutable } from '../../events/prescriptions.ts';
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

/** Who is told: a patient (by SMS) or an institution (its HIS inbox). */
export type Recipient = { personId: string } | { institutionId: string };

export interface NotificationTemplate<E extends EventDef = EventDef> {
  readonly event: E;
  readonly to: (d: Detail<E>) => Recipient;
  /** The text, or undefined when this occurrence tells the patient nothing new. */
  readonly text: (d: Detail<E>, n: Names) => string | undefined;
}

/** Keeps each row's detail typed by its own event, then erases it for the table. */
const row = <E extends EventDef>(t: NotificationTemplate<E>) => t as unknown as NotificationTemplate;

const SIGN = '【医联体】';
const recommendationText = { 'manage-locally': '建议在基层继续诊治', refer: '建议转诊' } as const;
const receiverWord = (direction: 'up' | 'down') => (direction === 'up' ? '医院' : '社区卫生服务中心');

export const notificationTemplates: readonly NotificationTemplate[] = [
  // ── referrals ──
  row({
    event: ReferralSubmitted,
    to: (d) => ({ personId: d.personId }),
    text: (d, n) =>
      d.direction === 'up'
        ? `${SIGN}您好，${n.institution(d.fromInstitutionId)}已为您申请转诊至${n.institution(d.toInstitutionId)}${n.department(d.toInstitutionId, d.department)}，待医院确认后将短信通知您就诊时间。`
        : `${SIGN}您好，${n.institution(d.fromInstitutionId)}已为您办理转回${n.institution(d.toInstitutionId)}继续治疗和随访，待确认后将短信通知您复诊时间。`,
  }),
  row({
    event: ReferralAccepted,
    to: (d) => ({ personId: d.personId }),
    text: (d, n) =>
      `${SIGN}${n.institution(d.toInstitutionId)}${n.department(d.toInstitutionId, d.department)}已接收您的转诊，就诊时间：${n.time(d.appointmentAt)}。请携带身份证件按时就诊。`,
  }),
  row({
    event: ReferralRejected,
    to: (d) => ({ personId: d.personId }),
    text: (d, n) => `${SIGN}${n.institution(d.toInstitutionId)}暂时无法接收您的转诊，${n.institution(d.fromInstitutionId)}将为您另行安排，请留意后续短信。`,
  }),
  row({
    event: ReferralRerouted,
    to: (d) => ({ personId: d.personId }),
    text: (d, n) =>
      `${SIGN}您的转诊已改派至${n.institution(d.toInstitutionId)}${n.department(d.toInstitutionId, d.department)}，待${receiverWord(d.direction)}确认后将短信通知您就诊时间。`,
  }),
  row({
    event: ReferralExpired,
    to: (d) => ({ personId: d.personId }),
    // Re-routed in the same sweep: the ReferralRerouted message says all there is to say.
    text: (d, n) =>
      d.reroutedTo
        ? undefined
        : `${SIGN}您的转诊未能在规定时间内得到${n.institution(d.expiredAtInstitutionId)}确认，${n.institution(d.fromInstitutionId)}将为您另行安排，请留意后续短信。`,
  }),
  row({
    event: ReferralCancelled,
    to: (d) => ({ personId: d.personId }),
    text: (d, n) =>
      `${SIGN}您在${n.institution(d.toInstitutionId)}${n.department(d.toInstitutionId, d.department)}的转诊已取消，如有疑问请联系${n.institution(d.fromInstitutionId)}。`,
  }),
  // ── prescriptions ──
  row({
    event: PrescriptionRouted,
    to: (d) => ({ personId: d.personId }),
    text: (d, n) => `${SIGN}您的电子处方已发送至${n.institution(d.pharmacyId)}，药师审核后即可凭医保电子凭证取药。`,
  }),
  row({
    // Routed after all (stock arrived): the prescriber, told it was unroutable, learns it need not act.
    event: PrescriptionRouted,
    to: (d) => ({ institutionId: d.prescriberId }),
    text: (d, n) =>
      d.previousStatus === 'unroutable'
        ? `处方 ${d.prescriptionId} 已有药房备齐药品，现已发送至${n.institution(d.pharmacyId)}，无需另行安排。`
        : undefined,
  }),
  row({
    event: PrescriptionReady,
    to: (d) => ({ personId: d.personId }),
    text: (d, n) => `${SIGN}您在${n.institution(d.pharmacyId)}的处方药品已备好，请携带医保电子凭证到店取药。`,
  }),
  row({
    event: PrescriptionUnroutable,
    to: (d) => ({ personId: d.personId }),
    text: (d, n) => `${SIGN}您的电子处方暂无可配齐药品的定点药房，${n.institution(d.prescriberId)}将与您联系另行安排。`,
  }),
  row({
    // The prescriber is told too: it has to change the prescription or call the patient.
    event: PrescriptionUnroutable,
    to: (d) => ({ institutionId: d.prescriberId }),
    text: (d) =>
      `处方 ${d.prescriptionId} 无法配送：患者所在区无定点药房备齐全部药品${d.rejectedBy.length ? `（${d.rejectedBy.length} 家药房已拒绝）` : ''}。请调整处方或联系患者。`,
  }),
  // ── advice and guidance (clinician to clinician: institution messages, never the patient) ──
  row({
    event: AdviceRequested,
    to: (d) => ({ institutionId: d.toInstitutionId }),
    text: (d, n) => `${n.institution(d.fromInstitutionId)}就一位患者向贵院${n.department(d.toInstitutionId, d.department)}发起咨询（${d.adviceId}），请及时答复。`,
  }),
  row({
    // The hospital that let it lapse: told why it left its list (re-asked elsewhere, it can no longer open it).
    event: AdviceExpired,
    to: (d) => ({ institutionId: d.toInstitutionId }),
    text: (d, n) =>
      `${n.institution(d.fromInstitutionId)}的咨询（${d.adviceId}）未在规定时间内答复，${d.reroutedTo ? '已转至其他医院，贵院不再能查看或答复' : '已关闭'}。`,
  }),
  row({
    event: AdviceRerouted,
    to: (d) => ({ institutionId: d.toInstitutionId }),
    text: (d, n) => `${n.institution(d.fromInstitutionId)}的一条咨询（${d.adviceId}）未获原机构及时答复，现转至贵院${n.department(d.toInstitutionId, d.department)}，请及时答复。`,
  }),
  row({
    event: AdviceAnswered,
    to: (d) => ({ institutionId: d.fromInstitutionId }),
    text: (d, n) => `${n.institution(d.toInstitutionId)}${n.department(d.toInstitutionId, d.department)}已答复您的咨询（${d.adviceId}）：${recommendationText[d.recommendation]}。`,
  }),
  row({
    event: AdviceClosed,
    to: (d) => ({ institutionId: d.fromInstitutionId }),
    text: (d, n) =>
      d.reason === 'unanswered' ? `您的咨询（${d.adviceId}）在规定时间内未获${n.institution(d.toInstitutionId)}答复，且暂无其他可答复的医院，已关闭；如需要，请直接发起转诊。` : undefined,
  }),
];

export const notifiedEvents: readonly EventDef[] = [...new Set(notificationTemplates.map((t) => t.event))];
