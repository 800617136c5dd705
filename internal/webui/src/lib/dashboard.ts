// 统计: the dashboard's state in the URL, and each figure of
// GetCaseStatistics as the ListCases filter that selects its cases, so
// that a click on a figure opens 案件列表 with exactly those cases. A
// figure that no ListCases filter can express maps to null, and the page
// does not make it clickable.
import type { Schemas } from "../api/client";
import { quote } from "./filter";

/** Figures is the API's CaseFigures (int64 counts arrive as strings). */
export type Figures = Schemas["v1CaseFigures"];

/** The groupings the dashboard shows, by their URL spelling. */
export type Grouping = "region" | "organization" | "mediator" | "dispute_type" | "source" | "create_month";

/** groupingEnum is the API's name of each grouping. */
export const groupingEnum: Record<Grouping, Schemas["v1StatisticsGrouping"]> = {
  region: "STATISTICS_GROUPING_REGION",
  organization: "STATISTICS_GROUPING_ORGANIZATION",
  mediator: "STATISTICS_GROUPING_MEDIATOR",
  dispute_type: "STATISTICS_GROUPING_DISPUTE_TYPE",
  source: "STATISTICS_GROUPING_SOURCE",
  create_month: "STATISTICS_GROUPING_CREATE_MONTH",
};

/** groupingLabels name the groupings as the page's tabs do. */
export const groupingLabels: Record<Grouping, string> = {
  region: "县区",
  organization: "调解组织",
  mediator: "调解员",
  dispute_type: "纠纷类型",
  source: "来源",
  create_month: "登记月份",
};

const groupings = Object.keys(groupingEnum) as Grouping[];

/** DashQuery is the dashboard's state as the URL holds it. */
export interface DashQuery {
  /** A region code (county, city…) narrowing the caller's scope. */
  region: string;
  /** The intake cohort: first and last month of registration, YYYY-MM. */
  from: string;
  to: string;
  /** A dispute type and a source, short enum names (MARRIAGE_FAMILY). */
  type: string;
  source: string;
  /** An organization, organizations/{id}. */
  org: string;
  /** The grouping of the detail table. */
  tab: Grouping;
}

const dashKeys: Array<keyof DashQuery> = ["region", "from", "to", "type", "source", "org", "tab"];

/** fromDashQuery reads the dashboard's state from the route's query. */
export function fromDashQuery(q: Record<string, unknown>): DashQuery {
  const s = (k: string) => (typeof q[k] === "string" ? (q[k] as string) : "");
  const tab = s("tab") as Grouping;
  return {
    region: s("region"), from: s("from"), to: s("to"), type: s("type"), source: s("source"), org: s("org"),
    tab: groupings.includes(tab) ? tab : "region",
  };
}

/** toDashQuery writes the state into a query, leaving out what is empty or the default. */
export function toDashQuery(d: DashQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of dashKeys) {
    const v = d[k];
    if (v && !(k === "tab" && v === "region")) out[k] = v;
  }
  return out;
}

const enumRe = /^[A-Z][A-Z0-9_]*$/;
const monthRe = /^(\d{4})-(0[1-9]|1[0-2])$/;
const codeRe = /^\d{6}$/;

/**
 * The UTC offset months are read in. The service groups months in
 * MEDIATION_TIMEZONE, Asia/Shanghai unless configured otherwise (China
 * keeps no daylight saving time); the case list's dates use it too.
 */
export const monthOffset = "+08:00";

/** monthStart is the instant a month (YYYY-MM) begins, as a filter literal. */
export function monthStart(ym: string): string {
  return quote(`${ym}-01T00:00:00${monthOffset}`);
}

/** nextMonth is the month after ym (YYYY-MM). */
export function nextMonth(ym: string): string {
  const m = monthRe.exec(ym);
  if (!m) throw new Error(`not a month: ${ym}`);
  let y = Number(m[1]);
  let mo = Number(m[2]) + 1;
  if (mo > 12) {
    mo = 1;
    y++;
  }
  return `${String(y).padStart(4, "0")}-${String(mo).padStart(2, "0")}`;
}

/** isMonth reports whether s is a month, YYYY-MM. */
export function isMonth(s: string): boolean {
  return monthRe.test(s);
}

/**
 * dashConditions are the dashboard's own filters as AIP-160 conditions
 * (each a term that can be joined to others with AND). Values that are
 * not what a control would give are left out rather than sent.
 */
export function dashConditions(d: DashQuery): string[] {
  const out: string[] = [];
  if (codeRe.test(d.region)) out.push(`region_code = ${quote(d.region)}`);
  if (isMonth(d.from)) out.push(`create_time >= ${monthStart(d.from)}`);
  if (isMonth(d.to)) out.push(`create_time < ${monthStart(nextMonth(d.to))}`);
  if (enumRe.test(d.type)) out.push(`dispute_type = ${d.type}`);
  if (enumRe.test(d.source)) out.push(`source = ${d.source}`);
  if (/^organizations\/[a-z0-9][a-z0-9-]*$/.test(d.org)) out.push(`organization = ${quote(d.org)}`);
  return out;
}

/**
 * officialPeriod is the period of the official 人民调解工作统计表
 * (GET /v1/caseStatistics/official.xlsx) that a range of months of
 * registration is: a month (2026-03), a quarter (2026-Q1) or a year
 * (2026); null for any other range, which the table does not cover.
 */
export function officialPeriod(from: string, to: string): string | null {
  const a = monthRe.exec(from);
  const b = monthRe.exec(to);
  if (!a || !b || a[1] !== b[1]) return null;
  const [y, m1, m2] = [a[1] as string, Number(a[2]), Number(b[2])];
  if (m1 === m2) return from;
  if (m1 === 1 && m2 === 12) return y;
  if (m2 === m1 + 2 && m1 % 3 === 1) return `${y}-Q${(m1 + 2) / 3}`;
  return null;
}

/** The counts of CaseFigures a click can open, and the cases of one state. */
export type Figure =
  | "cases" | "open" | "overdue" | "needsReassignment" | "accepted" | "succeeded" | "failed"
  | "withdrawnAfterAcceptance" | "withdrawnBeforeAcceptance" | "rejected" | "concluded"
  | "confirmationRequested" | "confirmationConfirmed" | "confirmationRefused"
  | "performed" | "partlyPerformed" | "notPerformed" | "groupDisputes" | "escalationRisks" | "courtReferrals"
  | `state:${Exclude<Schemas["v1CaseState"], "CASE_STATE_UNSPECIFIED">}`;

/** figureLabels name the figures as the page shows them. */
export const figureLabels: Record<Exclude<Figure, `state:${string}`>, string> = {
  cases: "案件总数",
  open: "未结案件",
  overdue: "已逾期",
  needsReassignment: "需改派",
  accepted: "受理",
  succeeded: "调解成功",
  failed: "调解不成",
  withdrawnAfterAcceptance: "受理后撤回",
  withdrawnBeforeAcceptance: "受理前撤回",
  rejected: "不予受理",
  concluded: "已结束调解",
  confirmationRequested: "申请司法确认",
  confirmationConfirmed: "确认有效",
  confirmationRefused: "不予确认",
  performed: "已履行",
  partlyPerformed: "部分履行",
  notPerformed: "未履行",
  groupDisputes: "群体性纠纷",
  escalationRisks: "可能激化",
  courtReferrals: "法院委派 / 委托",
};

// A case is accepted when it has an acceptance time (CaseFigures.accepted
// counts `accept_time IS NOT NULL`); the filter language has no "is set",
// and an ordering comparison is false for an unset time, so a bound before
// any acceptance says it.
const accepted = `accept_time >= "1970-01-01T00:00:00Z"`;

/**
 * figureConditions are the conditions that select a figure's cases among
 * those of its set, as CaseFigures defines each figure; null for the
 * figures no ListCases filter can express (judicial confirmation: the
 * filter has no field for it).
 */
export function figureConditions(f: Figure): string[] | null {
  if (f.startsWith("state:")) return [`state = ${f.slice("state:CASE_STATE_".length)}`];
  switch (f) {
    case "cases":
      return [];
    case "open":
      return ["state != CLOSED"];
    case "overdue":
      // Accepted, assigned or mediating cases past their due time.
      return ["overdue = true", "(state = ACCEPTED OR state = ASSIGNED OR state = MEDIATING)"];
    case "needsReassignment":
      return ["needs_reassignment = true"];
    case "accepted":
      return [accepted];
    case "succeeded":
      // Accepted cases that reached an agreement: AGREED, or closed with AGREEMENT.
      return [accepted, "(state = AGREED OR outcome = AGREEMENT)"];
    case "failed":
      return ["outcome = FAILED"];
    case "withdrawnAfterAcceptance":
      return ["outcome = WITHDRAWN", accepted];
    case "withdrawnBeforeAcceptance":
      return ["outcome = WITHDRAWN", `NOT ${accepted}`];
    case "rejected":
      return ["outcome = REJECTED"];
    case "concluded":
      // succeeded + failed + withdrawn after acceptance.
      return [`((${accepted} AND (state = AGREED OR outcome = AGREEMENT OR outcome = WITHDRAWN)) OR outcome = FAILED)`];
    case "performed":
      return ["performance_status = PERFORMED"];
    case "partlyPerformed":
      return ["performance_status = PARTLY_PERFORMED"];
    case "notPerformed":
      return ["performance_status = NOT_PERFORMED"];
    case "groupDisputes":
      return ["group_dispute = true"];
    case "escalationRisks":
      return ["escalation_risk = true"];
    case "courtReferrals":
      // A court referral is a case whose source is a court's (委派 or 委托); only those carry a court.
      return ["(source = COURT_DELEGATED OR source = COURT_ENTRUSTED)"];
    default:
      return null;
  }
}

/** Region is what groupConditions needs of the directory's regions. */
export interface Region {
  code?: string;
  parent?: string;
}

/**
 * groupConditions are the conditions that select a group's cases: those
 * whose grouping key is key. Null when no filter can: cases with no
 * organization or mediator (未分派; the filter cannot ask for an unset
 * field), or a region code with codes below it whose children the
 * directory (regions) does not list.
 *
 * A region group holds the cases registered with exactly that code, while
 * region_code = "621000" matches every code below 621000 too: a city's or
 * province's group excludes each region directly below it.
 */
export function groupConditions(g: Grouping, key: string | undefined, regions: Region[] = []): string[] | null {
  const k = key ?? "";
  switch (g) {
    case "region": {
      if (!codeRe.test(k)) return null;
      if (!k.endsWith("00")) return [`region_code = ${quote(k)}`];
      if (!regions.some((r) => r.code === k)) return null;
      const children = regions.filter((r) => r.parent === `regions/${k}` && r.code && r.code !== k).map((r) => r.code as string);
      return [`region_code = ${quote(k)}`, ...children.sort().map((c) => `NOT region_code = ${quote(c)}`)];
    }
    case "organization":
      return /^organizations\/[a-z0-9][a-z0-9-]*$/.test(k) ? [`organization = ${quote(k)}`] : null;
    case "mediator":
      return /^mediators\/[a-z0-9][a-z0-9-]*$/.test(k) ? [`mediator = ${quote(k)}`] : null;
    case "dispute_type":
      return k.startsWith("DISPUTE_TYPE_") ? [`dispute_type = ${k.slice("DISPUTE_TYPE_".length)}`] : null;
    case "source":
      return k.startsWith("CASE_SOURCE_") ? [`source = ${k.slice("CASE_SOURCE_".length)}`] : null;
    case "create_month":
      return isMonth(k) ? [`create_time >= ${monthStart(k)}`, `create_time < ${monthStart(nextMonth(k))}`] : null;
  }
}

/**
 * drillFilter is the ListCases filter of a figure: the dashboard's
 * conditions, the group's (none for the totals) and the figure's, joined
 * with AND; null when the group or the figure cannot be expressed.
 */
export function drillFilter(base: string[], group: string[] | null, figure: Figure): string | null {
  const f = figureConditions(figure);
  if (group === null || f === null) return null;
  return [...base, ...group, ...f].join(" AND ");
}

const figureNames = new Set<string>([
  ...Object.keys(figureLabels),
  ...["INTAKE", "ACCEPTED", "ASSIGNED", "MEDIATING", "AGREED", "CLOSED"].map((st) => `state:CASE_STATE_${st}`),
]);

/** isFigure reports whether s names a figure. */
export function isFigure(s: string): s is Figure {
  return figureNames.has(s);
}

/**
 * countedFigure says how to count a drill-down's cases from the summaries:
 * the figure fig of GetCaseStatistics with the filter sf (the dashboard's
 * and the group's conditions, which the statistics' summary tables serve)
 * is the number of cases of filter, when filter is exactly sf and the
 * figure's conditions, as drillFilter writes it. Null otherwise (a filter
 * edited by hand): then only counting the filter's cases will do.
 */
export function countedFigure(filter: string, sf: string, fig: string): Figure | null {
  if (!isFigure(fig)) return null;
  const conds = figureConditions(fig);
  if (conds === null) return null;
  return [sf, ...conds].filter(Boolean).join(" AND ") === filter ? fig : null;
}

/** count reads a figure of a set of figures as a number (0 when absent, as JSON leaves zeros out). */
export function count(figures: Figures | undefined, f: Figure): number {
  if (!figures) return 0;
  if (f.startsWith("state:")) {
    const st = f.slice("state:".length);
    return Number(figures.states?.find((s) => s.state === st)?.count ?? 0);
  }
  const v = (figures as Record<string, unknown>)[f];
  return typeof v === "string" || typeof v === "number" ? Number(v) : 0;
}

/** percent formats a rate (0..1) as 91.6%; "—" when its denominator is 0. */
export function percent(rate: number | undefined, denominator: number): string {
  if (!denominator) return "—";
  return `${(100 * (rate ?? 0)).toFixed(1)}%`;
}
