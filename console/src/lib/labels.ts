// zh-CN labels for the API's enumerations and problem types. Keys are typed from the schemas, so a
// new status without a label is a type error here.
import type { AdviceStatus, closedReasons, recommendations } from '#schemas/advice';
import type { AlertType } from '#schemas/alerts';
import type { AccessEntry, TimelineKind } from '#schemas/people';
import type { ReferralAction, ReferralStatus } from '#schemas/referrals';
import type { PrescriptionStatus } from '#schemas/prescriptions';
import type { ProblemSlug } from '#schemas/problems';
import { ApiError } from './api.ts';

export const referralStatusLabel: Record<ReferralStatus, string> = {
  submitted: '待接收', accepted: '已接收', rejected: '已拒绝', expired: '已超时', arrived: '已到诊', completed: '已完成', cancelled: '已撤销',
};
export const prescriptionStatusLabel: Record<PrescriptionStatus, string> = {
  issued: '已开具', routed: '已流转', accepted: '已审核', 'partially-dispensed': '部分发药', rejected: '已拒绝', unroutable: '无药店可配', dispensed: '已发药', cancelled: '已作废', expired: '已过期',
};
export const referralActionLabel: Record<ReferralAction, string> = {
  accept: '接收', reject: '拒绝', reroute: '改派', arrive: '登记到诊', complete: '完成诊疗', cancel: '撤销转诊',
};
export const adviceStatusLabel: Record<AdviceStatus, string> = { open: '待答复', answered: '已答复', converted: '已转诊', closed: '已关闭' };
export const recommendationLabel: Record<(typeof recommendations)[number], string> = { 'manage-locally': '建议基层管理', refer: '建议转诊' };
export const closedReasonLabel: Record<(typeof closedReasons)[number], string> = { withdrawn: '已撤回', resolved: '已处理', unanswered: '超时未答复' };
export const timelineKindLabel: Record<TimelineKind, string> = { referral: '转诊', prescription: '处方', settlement: '医保结算', advice: '会诊咨询' };
export const accessActionLabel: Record<AccessEntry['action'], string> = { read: '查看', write: '修改' };
export const urgencyLabel = { routine: '普通', urgent: '加急', emergency: '急诊' } as const;
export const urgencyRank = { emergency: 0, urgent: 1, routine: 2 } as const;
export const directionLabel = { up: '上转', down: '下转' } as const;
export const roleLabel = { operator: '平台运营', clinic: '社区卫生服务中心', hospital: '医院', pharmacy: '药店', channel: '渠道' } as const;
export const institutionTypeLabel = { clinic: '社区卫生服务中心', hospital: '医院', pharmacy: '药店' } as const;
export const levelLabel = { primary: '一级', secondary: '二级', tertiary: '三级' } as const;
export const categoryLabel = { A: '甲类', B: '乙类', C: '丙类·自费' } as const; // no brackets: it is shown inside some
export const settlementStatusLabel = { settled: '已结算', reversed: '已冲正' } as const;
/** zh-CN names of the webhook events, in the order of each flow; a unit test holds it to the catalog. */
export const webhookEventLabel: Partial<Record<string, string>> = {
  ReferralSubmitted: '转诊已提交', ReferralAccepted: '转诊已接收', ReferralRejected: '转诊被拒绝', ReferralExpired: '转诊超时',
  ReferralRerouted: '转诊已改派', ReferralArrived: '患者已到诊', ReferralCompleted: '诊疗已完成', ReferralCancelled: '转诊已撤销',
  AdviceRequested: '会诊咨询已提交', AdviceAnswered: '会诊咨询已答复', AdviceExpired: '会诊咨询超时', AdviceRerouted: '会诊咨询已改派', AdviceConverted: '会诊咨询已转为转诊', AdviceClosed: '会诊咨询已关闭',
  PrescriptionIssued: '处方已开具', PrescriptionRouted: '处方已流转', PrescriptionAccepted: '处方已审核', PrescriptionRejected: '处方被拒绝',
  PrescriptionUnroutable: '处方无药店可配', PrescriptionReady: '处方药品已备好', PrescriptionDispensed: '处方已发药', PrescriptionCancelled: '处方已作废',
  PrescriptionExpired: '处方已过期', PharmacyStockChanged: '库存已更新', SettlementCompleted: '医保结算完成', SettlementReversed: '医保结算冲正',
  TraceCodeReuseAttempted: '追溯码重复销售',
};
export const alertTypeLabel: Record<AlertType, string> = { 'trace-code-reused': '追溯码重复销售', 'stock-hoarding': '疑似囤积药品', 'designation-withdrawn-kept': '取消定点后留店处方' };

/** Beyond the API's slugs: no answer at all, and answers that were not the API's problem+json (lib/api.ts). */
type ClientSlug = 'network' | 'gateway-timeout' | 'bad-response';
const problemLabel: Partial<Record<ProblemSlug | ClientSlug, string>> = {
  'validation-failed': '填写有误，请检查标红的项目',
  unauthorized: '登录已失效，请重新登录',
  forbidden: '无权进行此操作',
  'not-found': '未找到',
  conflict: '与现有记录冲突，请核对后重试',
  'invalid-transition': '当前状态不允许此操作（可能已被他人处理），已刷新',
  'precondition-failed': '您查看的内容已被他人修改，已为您刷新，请核对后再操作',
  'code-already-used': '该医保电子凭证码已使用，请患者刷新二维码后重新扫码',
  'code-expired': '该医保电子凭证码已过期，请患者刷新二维码',
  'not-enrolled': '该人员未参保登记',
  'voucher-not-active': '医保电子凭证已停用',
  'insufficient-funds': '余额不足',
  'idempotency-key-reused': '重复提交的内容不一致，请重新结算',
  unroutable: '没有可接收的机构（无容量或无此科室）',
  'rate-limited': '请求过于频繁，请稍后再试',
  'trace-code-used': '追溯码已被销售：同一追溯码只能销售一次',
  'service-unavailable': '系统繁忙，请稍后重试',
  'internal-error': '服务器内部错误，请稍后重试',
  'bad-gateway': '服务器暂时无法处理（网关错误），请稍后重试',
  'gateway-timeout': '服务器响应超时，请稍后重试',
  'bad-response': '未能读取服务器的回答，请稍后重试',
  network: '无法连接到服务器，请检查网络后重试',
};

/** Problems of one type that the API tells apart only in its detail: the ones a desk meets, in Chinese. */
const byDetail: Partial<Record<ProblemSlug, Array<[RegExp, string]>>> = {
  conflict: [
    [/open prescription/, '该患者已有同一药品的未完成处方：可在“处方”中将其作废，或待其发药或过期'],
    [/capacity/, '该科室当日已无接诊号源，请选择其他日期或医院'],
    [/already paid for prescription/, '该结算已用于处方发药，不能再次使用'],
    [/already registered/, '该机构编码已登记'],
    [/already pay for this person|already has a payer/, '此人已有家庭共济付款人'],
    [/re-enrolled/, '此人的参保信息在结算后已更新，无法自动冲正，请联系平台运营方'],
    [/at most \d+ webhooks/, '订阅数量已达上限，请先删除一个'],
  ],
  'invalid-transition': [
    [/paid for a dispensed prescription/, '该结算已用于处方发药，药品已发出，不能冲正'],
    [/only be reversed on its own day/, '结算只能在当日冲正，该结算已过结算当日'],
    [/settlement is already reversed/, '该结算已冲正（可能在其他收银台），款项已退回，无需再次冲正'],
  ],
  forbidden: [[/is not designated for insurance settlement/, '本机构已被取消医保定点（或尚未定点），不能进行医保结算；请联系平台运营方']],
};

/** One sentence for a failed request, in Chinese, with the API's detail where it adds something. */
export function problemText(err: unknown): string {
  if (err instanceof ApiError) {
    const slug = err.slug as ProblemSlug;
    const said = byDetail[slug]?.find(([re]) => re.test(err.problem.detail ?? ''))?.[1];
    // An answer of no known type: its status, not an English title.
    return said ?? problemLabel[slug] ?? (/[\u4e00-\u9fff]/.test(err.problem.title) ? `${err.problem.title}（${err.status}）` : `请求失败（${err.status}），请稍后重试`);
  }
  return err instanceof Error ? err.message : String(err);
}
