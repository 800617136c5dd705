// Chinese labels of the API's enums. Each table is typed by the generated
// enum, so an enum value added to the API without a label fails the build.
import type { Schemas } from "../api/client";

type Labels<E extends string> = Record<Exclude<E, `${string}_UNSPECIFIED`>, string>;

export const stateLabels: Labels<Schemas["v1CaseState"]> = {
  CASE_STATE_INTAKE: "登记",
  CASE_STATE_ACCEPTED: "受理",
  CASE_STATE_ASSIGNED: "已分派",
  CASE_STATE_MEDIATING: "调解中",
  CASE_STATE_AGREED: "调解成功",
  CASE_STATE_CLOSED: "结案",
};

export const disputeTypeLabels: Labels<Schemas["v1DisputeType"]> = {
  DISPUTE_TYPE_MARRIAGE_FAMILY: "婚姻家庭",
  DISPUTE_TYPE_NEIGHBOR: "邻里",
  DISPUTE_TYPE_HOUSING_HOMESTEAD: "房屋宅基地",
  DISPUTE_TYPE_CONTRACT_DEBT: "合同 / 债务",
  DISPUTE_TYPE_PRODUCTION_BUSINESS: "生产经营",
  DISPUTE_TYPE_DAMAGES: "损害赔偿",
  DISPUTE_TYPE_LAND_FOREST_CONTRACT: "山林土地承包",
  DISPUTE_TYPE_LAND_REQUISITION: "征地拆迁",
  DISPUTE_TYPE_LABOR: "劳动争议",
  DISPUTE_TYPE_ENVIRONMENT: "环境污染",
  DISPUTE_TYPE_TRAFFIC_ACCIDENT: "道路交通事故",
  DISPUTE_TYPE_MEDICAL: "医疗",
  DISPUTE_TYPE_PROPERTY_MANAGEMENT: "物业",
  DISPUTE_TYPE_CONSUMER: "消费",
  DISPUTE_TYPE_VILLAGE_AFFAIRS: "村务管理",
  DISPUTE_TYPE_OTHER: "其他",
};

export const sourceLabels: Labels<Schemas["v1CaseSource"]> = {
  CASE_SOURCE_WALK_IN: "当事人申请",
  CASE_SOURCE_ONLINE: "网上申请",
  CASE_SOURCE_HOTLINE_12348: "12348 热线",
  CASE_SOURCE_GRID_SWEEP: "网格排查",
  CASE_SOURCE_PETITION_OFFICE: "信访转办",
  CASE_SOURCE_POLICE: "公安移送",
  CASE_SOURCE_COURT_DELEGATED: "法院委派",
  CASE_SOURCE_COURT_ENTRUSTED: "法院委托",
  CASE_SOURCE_OWN_INITIATIVE: "主动调解",
};

export const outcomeLabels: Labels<Schemas["v1CaseOutcome"]> = {
  CASE_OUTCOME_AGREEMENT: "调解成功",
  CASE_OUTCOME_FAILED: "调解不成",
  CASE_OUTCOME_WITHDRAWN: "撤回",
  CASE_OUTCOME_REJECTED: "不予受理",
};

export const roleLabels: Labels<Schemas["v1Role"]> = {
  ROLE_ADMIN: "管理员",
  ROLE_SUPERVISOR: "司法局 / 综治中心",
  ROLE_ORGANIZATION_LEAD: "调解室负责人",
  ROLE_MEDIATOR: "调解员",
  ROLE_COURT_DESK: "法院诉调对接",
  ROLE_AUDITOR: "审计",
};

export const partyRoleLabels: Labels<Schemas["v1PartyRole"]> = {
  PARTY_ROLE_APPLICANT: "申请人",
  PARTY_ROLE_RESPONDENT: "被申请人",
  PARTY_ROLE_THIRD_PARTY: "第三人",
  PARTY_ROLE_AGENT: "代理人",
};

export const partyKindLabels: Labels<Schemas["v1PartyKind"]> = {
  PARTY_KIND_NATURAL_PERSON: "自然人",
  PARTY_KIND_LEGAL_PERSON: "法人",
  PARTY_KIND_UNINCORPORATED: "非法人组织",
};

export const genderLabels: Labels<Schemas["v1Gender"]> = { GENDER_MALE: "男", GENDER_FEMALE: "女" };

export const idTypeLabels: Labels<Schemas["v1IdType"]> = {
  ID_TYPE_RESIDENT_ID_CARD: "居民身份证",
  ID_TYPE_PASSPORT: "护照",
  ID_TYPE_HK_MACAO_PERMIT: "港澳居民来往内地通行证",
  ID_TYPE_TAIWAN_PERMIT: "台湾居民来往大陆通行证",
  ID_TYPE_FOREIGN_PERMANENT_RESIDENT: "外国人永久居留身份证",
  ID_TYPE_UNIFIED_SOCIAL_CREDIT_CODE: "统一社会信用代码",
  ID_TYPE_OTHER: "其他证件",
};

export const performanceLabels: Labels<Schemas["v1PerformanceStatus"]> = {
  PERFORMANCE_STATUS_PERFORMED: "已履行",
  PERFORMANCE_STATUS_PARTLY_PERFORMED: "部分履行",
  PERFORMANCE_STATUS_NOT_PERFORMED: "未履行",
};

export const failureReasonLabels: Labels<Schemas["v1FailureReason"]> = {
  FAILURE_REASON_PARTY_REFUSES: "当事人拒绝调解",
  FAILURE_REASON_PARTY_UNREACHABLE: "无法联系当事人",
  FAILURE_REASON_POSITIONS_TOO_FAR: "双方分歧过大",
  FAILURE_REASON_OUTSIDE_SCOPE: "不属于调解范围",
  FAILURE_REASON_REFERRED_TO_COURT: "引导诉讼",
  FAILURE_REASON_REFERRED_TO_ARBITRATION: "引导仲裁",
  FAILURE_REASON_REFERRED_TO_ADMINISTRATIVE: "引导行政途径",
  FAILURE_REASON_OTHER: "其他",
};

export const sessionKindLabels: Labels<Schemas["v1SessionKind"]> = {
  SESSION_KIND_BILATERAL: "双方调解",
  SESSION_KIND_TRILATERAL: "三方调解",
  SESSION_KIND_EXPERT: "专家调解",
  SESSION_KIND_JOINT: "联合调解",
};

export const sessionStatusLabels: Labels<Schemas["v1SessionStatus"]> = {
  SESSION_STATUS_SCHEDULED: "已安排",
  SESSION_STATUS_HELD: "已举行",
  SESSION_STATUS_CANCELLED: "已取消",
};

export const confirmationLabels: Labels<Schemas["v1ConfirmationDecision"]> = {
  CONFIRMATION_DECISION_CONFIRMED: "确认有效",
  CONFIRMATION_DECISION_REFUSED: "不予确认",
};

export const actionLabels: Labels<Schemas["v1CaseAction"]> = {
  CASE_ACTION_CREATE: "登记",
  CASE_ACTION_ACCEPT: "受理",
  CASE_ACTION_REJECT: "不予受理",
  CASE_ACTION_ASSIGN: "分派 / 改派",
  CASE_ACTION_START_MEDIATION: "开始调解",
  CASE_ACTION_RECORD_AGREEMENT: "调解成功",
  CASE_ACTION_RECORD_FAILURE: "调解不成",
  CASE_ACTION_WITHDRAW: "撤回",
  CASE_ACTION_CLOSE: "结案",
  CASE_ACTION_UPDATE: "修改登记信息",
  CASE_ACTION_RECUSE: "回避",
  CASE_ACTION_EXTEND_DEADLINE: "延长期限",
  CASE_ACTION_MARK_OVERDUE: "超期",
  CASE_ACTION_SCHEDULE_SESSION: "安排调解",
  CASE_ACTION_RECORD_SESSION: "记录调解笔录",
  CASE_ACTION_CANCEL_SESSION: "取消调解",
  CASE_ACTION_REQUEST_CONFIRMATION: "申请司法确认",
  CASE_ACTION_RECORD_CONFIRMATION: "司法确认结果",
  CASE_ACTION_RECORD_PERFORMANCE: "记录履行情况",
  CASE_ACTION_RECORD_FOLLOW_UP: "回访",
};

/** label looks a value up in a table, falling back to the value itself. */
export function label<T extends string>(table: Partial<Record<T, string>>, value: T | undefined | null): string {
  if (!value) return "—";
  return table[value] ?? value;
}

/** options are a table's entries for a select: value and label. */
export function options<T extends string>(table: Record<T, string>): Array<{ value: T; label: string }> {
  return (Object.keys(table) as T[]).map((value) => ({ value, label: table[value] }));
}

/** stateTagType is the Element Plus tag colour of a state. */
export function stateTagType(state: Schemas["v1CaseState"] | undefined): "primary" | "success" | "warning" | "info" | "danger" {
  switch (state) {
    case "CASE_STATE_INTAKE":
    case "CASE_STATE_ACCEPTED":
      return "warning";
    case "CASE_STATE_ASSIGNED":
    case "CASE_STATE_MEDIATING":
      return "primary";
    case "CASE_STATE_AGREED":
      return "success";
    default:
      return "info";
  }
}

/** shortEnum strips an enum's prefix: CASE_STATE_MEDIATING → MEDIATING (the filter's spelling). */
export function shortEnum(value: string, prefix: string): string {
  return value.startsWith(prefix) ? value.slice(prefix.length) : value;
}

export const organizationTypeLabels: Labels<Schemas["v1OrganizationType"]> = {
  ORGANIZATION_TYPE_VILLAGE_COMMITTEE: "村（居）调委会",
  ORGANIZATION_TYPE_TOWNSHIP_COMMITTEE: "乡镇（街道）调委会",
  ORGANIZATION_TYPE_ENTERPRISE_COMMITTEE: "企事业单位调委会",
  ORGANIZATION_TYPE_PROFESSIONAL_COMMITTEE: "行业性专业性调委会",
  ORGANIZATION_TYPE_STATIONED_ROOM: "派驻调解室",
  ORGANIZATION_TYPE_PERSONAL_STUDIO: "个人调解工作室",
  ORGANIZATION_TYPE_WOMEN_STUDIO: "妇联调解工作室",
  ORGANIZATION_TYPE_COURT_CENTER: "法院诉调对接中心",
};

export const courtProcedureLabels: Labels<Schemas["v1CourtProcedure"]> = {
  COURT_PROCEDURE_ORDINARY: "普通程序",
  COURT_PROCEDURE_SUMMARY: "简易程序",
};
