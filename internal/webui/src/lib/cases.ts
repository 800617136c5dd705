// Helpers over cases shared by the pages.
import { api, call, type Case, type Party } from "../api/client";

/** The open states, for filters. */
export const openStates = ["INTAKE", "ACCEPTED", "ASSIGNED", "MEDIATING", "AGREED"] as const;

/** caseId is the UUID of cases/{uuid}. */
export function caseId(c: Pick<Case, "name">): string {
  return (c.name ?? "").replace(/^cases\//, "");
}

/** partiesText: "王秀英 诉 王建国" style summary of applicants and respondents. */
export function partiesText(parties: Party[] | undefined): string {
  const ps = parties ?? [];
  const names = (role: Party["role"]) => ps.filter((p) => p.role === role).map((p) => p.name).join("、");
  const a = names("PARTY_ROLE_APPLICANT");
  const r = names("PARTY_ROLE_RESPONDENT");
  if (a && r) return `${a} — ${r}`;
  return a || r || ps.map((p) => p.name).join("、") || "—";
}

/** nextStep says what the case waits for, in a mediator's words. */
export function nextStep(c: Case): string {
  switch (c.state) {
    case "CASE_STATE_INTAKE":
      return "审查：受理或不予受理";
    case "CASE_STATE_ACCEPTED":
      return "等待分派调解员";
    case "CASE_STATE_ASSIGNED":
      return (c.sessionCount ?? 0) > 0 ? "开始调解" : "安排调解、通知当事人";
    case "CASE_STATE_MEDIATING":
      return "记录调解笔录，调解成功或不成";
    case "CASE_STATE_AGREED":
      return (c.followUpCount ?? 0) > 0 ? "结案" : "回访履行情况，然后结案";
    default:
      return "—";
  }
}

/** listAll reads every page of a ListCases query, up to max cases. */
export async function listAll(filter: string, max = 500): Promise<Case[]> {
  const out: Case[] = [];
  let pageToken: string | undefined;
  do {
    const r = await call(api.GET("/v1/cases", { params: { query: { filter, pageSize: 200, pageToken } } }));
    out.push(...(r.cases ?? []));
    pageToken = r.nextPageToken || undefined;
  } while (pageToken && out.length < max);
  return out;
}
