// The case actions the workbench offers: each verb's form fields and the
// typed call that performs it. Every call sends the etag the page read,
// so that a change by someone else in between is refused
// (CONCURRENT_CHANGE) instead of acting on a case the user has not seen,
// and a requestId, so that a retry after a lost answer acts once.
import { api, call, type Case, type Schemas } from "../api/client";
import type { Verb } from "./workflow";

type Obligation = Schemas["v1Obligation"];

/** ActionForm holds every field of every action's form; each form uses its own. */
export interface ActionForm {
  comment: string;
  reason: string;
  organization: string;
  mediator: string;
  startTime: Date | null;
  place: string;
  kind: Schemas["v1SessionKind"] | "";
  online: boolean;
  participants: string[];
  session: string;
  minutes: string;
  result: string;
  agreementForm: Schemas["v1AgreementForm"];
  facts: string;
  terms: string;
  obligations: Obligation[];
  performance: string;
  responsibilities: string;
  signDate: string;
  copies: number | undefined;
  reasonCode: Schemas["v1FailureReason"] | "";
  consentingPartyIds: string[];
  courtCode: string;
  courtName: string;
  decision: Schemas["v1ConfirmationDecision"] | "";
  documentNumber: string;
  remarks: string;
  performanceStatus: Schemas["v1PerformanceStatus"] | "";
  findings: string;
  purpose: string;
  partyIds: string[];
  visitor: string;
  noFollowUpReason: string;
  summary: string;
  disputeType: Schemas["v1DisputeType"] | "";
  escalationRisk: boolean;
  familyViolence: boolean;
  minorsInvolved: boolean;
}

/** emptyForm is a blank form, with the defaults a mediator expects. */
export function emptyForm(c?: Case): ActionForm {
  return {
    comment: "", reason: "", organization: c?.organization ?? "", mediator: "",
    startTime: null, place: "", kind: "", online: false, participants: [],
    session: "", minutes: "", result: "",
    agreementForm: "AGREEMENT_FORM_WRITTEN", facts: "", terms: "", obligations: [], performance: "", responsibilities: "", signDate: "", copies: undefined,
    reasonCode: "", consentingPartyIds: [], courtCode: c?.courtReferral?.courtCode ?? "", courtName: c?.courtReferral?.courtName ?? "",
    decision: "", documentNumber: "", remarks: "", performanceStatus: "", findings: "", purpose: "", partyIds: [], visitor: "", noFollowUpReason: "",
    summary: c?.summary ?? "", disputeType: c?.disputeType ?? "", escalationRisk: c?.escalationRisk ?? false,
    familyViolence: c?.familyViolence ?? false, minorsInvolved: c?.minorsInvolved ?? false,
  };
}

/** Required fields by verb, checked before the call (the service checks them again). */
export const required: Partial<Record<Verb, Array<keyof ActionForm>>> = {
  reject: ["reason"],
  assign: ["organization", "mediator"],
  scheduleSession: ["startTime"],
  recordSession: ["session", "minutes"],
  cancelSession: ["session", "reason"],
  recordAgreement: ["terms"],
  recordFailure: ["reason"],
  extendDeadline: ["reason", "consentingPartyIds"],
  requestConfirmation: ["courtCode"],
  recordConfirmation: ["decision"],
  recordPerformance: ["performanceStatus"],
  recordFollowUp: ["findings"],
  recuse: ["reason"],
  update: ["summary", "disputeType"],
};

/** The registration fields 修改登记信息 may change (parties are changed at registration only, for now). */
export const updateFields = ["summary", "disputeType", "escalationRisk", "familyViolence", "minorsInvolved"] as const;

/**
 * updateBody is the body of UpdateCase: the fields of updateFields that
 * differ from the case, and its etag. Over REST the body's keys are the
 * update mask, so an unchanged field is left out rather than rewritten.
 */
export function updateBody(c: Case, f: ActionForm): Record<string, unknown> {
  const out: Record<string, unknown> = { etag: c.etag };
  if (f.summary.trim() !== (c.summary ?? "").trim()) out.summary = f.summary.trim();
  if (f.disputeType && f.disputeType !== c.disputeType) out.disputeType = f.disputeType;
  for (const k of ["escalationRisk", "familyViolence", "minorsInvolved"] as const) if (f[k] !== (c[k] ?? false)) out[k] = f[k];
  return out;
}

/** The request's field path (as the service names it in a violation) of each form field. */
export const fieldPaths: Partial<Record<keyof ActionForm, string>> = {
  agreementForm: "agreement.form",
  facts: "agreement.facts",
  terms: "agreement.terms",
  obligations: "agreement.obligations",
  performance: "agreement.performance",
  responsibilities: "agreement.responsibilities",
  signDate: "agreement.signDate",
  copies: "agreement.copies",
  performanceStatus: "performanceStatus",
  summary: "case.summary",
  disputeType: "case.disputeType",
  escalationRisk: "case.escalationRisk",
  familyViolence: "case.familyViolence",
  minorsInvolved: "case.minorsInvolved",
};

/** The form field of a violation's field path, e.g. agreement.terms → terms, performance_status → status's field. */
export function formFieldOf(verb: Verb, path: string): keyof ActionForm | undefined {
  for (const [k, v] of Object.entries(fieldPaths)) if (path === v || path.startsWith(v + ".") || path.startsWith(v + "[")) return k as keyof ActionForm;
  if (verb === "recordPerformance" && path === "status") return "performanceStatus";
  const form = emptyForm();
  const bare = path.split(/[.[]/)[0] ?? "";
  return bare in form ? (bare as keyof ActionForm) : undefined;
}

const opt = (s: string) => (s.trim() ? s.trim() : undefined);

/** isReassignment: assigning a case that has a mediator needs a reason. */
export function isReassignment(c: Case): boolean {
  return c.state === "CASE_STATE_ASSIGNED" || c.state === "CASE_STATE_MEDIATING";
}

/** runAction performs a verb on a case and returns the case as it is now. */
export async function runAction(verb: Verb, c: Case, f: ActionForm, requestId: string): Promise<Case> {
  const name = c.name ?? "";
  const path = { name };
  const base = { etag: c.etag, requestId };
  let r: { case?: Case };
  switch (verb) {
    case "accept":
      r = await call(api.POST("/v1/{name}:accept", { params: { path }, body: { ...base, comment: opt(f.comment) } }));
      break;
    case "reject":
      r = await call(api.POST("/v1/{name}:reject", { params: { path }, body: { ...base, reason: f.reason.trim() } }));
      break;
    case "assign":
      r = await call(api.POST("/v1/{name}:assign", { params: { path }, body: { ...base, organization: f.organization, mediator: f.mediator, reason: opt(f.reason) } }));
      break;
    case "startMediation":
      r = await call(api.POST("/v1/{name}:startMediation", { params: { path }, body: { ...base, comment: opt(f.comment) } }));
      break;
    case "scheduleSession":
      r = await call(api.POST("/v1/{name}:scheduleSession", { params: { path }, body: {
        ...base, startTime: f.startTime ? f.startTime.toISOString() : "", place: opt(f.place), kind: f.kind || undefined,
        online: f.online || undefined, participants: f.participants.length ? f.participants : undefined,
      } }));
      break;
    case "recordSession":
      r = await call(api.POST("/v1/{name}:recordSession", { params: { path }, body: { ...base, session: f.session, minutes: f.minutes.trim(), result: opt(f.result) } }));
      break;
    case "cancelSession":
      r = await call(api.POST("/v1/{name}:cancelSession", { params: { path }, body: { ...base, session: f.session, reason: f.reason.trim() } }));
      break;
    case "recordAgreement":
      r = await call(api.POST("/v1/{name}:recordAgreement", { params: { path }, body: { ...base, agreement: {
        form: f.agreementForm, facts: opt(f.facts), terms: f.terms.trim(), performance: opt(f.performance), responsibilities: opt(f.responsibilities),
        signDate: opt(f.signDate), copies: f.copies || undefined,
        obligations: f.obligations.length ? f.obligations.map((o) => ({
          obligorPartyId: o.obligorPartyId, obligeePartyId: o.obligeePartyId || undefined, description: o.description.trim(),
          amount: o.amount?.trim() || undefined, dueDate: o.dueDate || undefined,
        })) : undefined,
      } } }));
      break;
    case "recordFailure":
      r = await call(api.POST("/v1/{name}:recordFailure", { params: { path }, body: { ...base, reason: f.reason.trim(), reasonCode: f.reasonCode || undefined } }));
      break;
    case "extendDeadline":
      r = await call(api.POST("/v1/{name}:extendDeadline", { params: { path }, body: { ...base, reason: f.reason.trim(), consentingPartyIds: f.consentingPartyIds } }));
      break;
    case "requestConfirmation":
      r = await call(api.POST("/v1/{name}:requestConfirmation", { params: { path }, body: { ...base, courtCode: f.courtCode.trim(), courtName: opt(f.courtName) } }));
      break;
    case "recordConfirmation":
      r = await call(api.POST("/v1/{name}:recordConfirmation", { params: { path }, body: {
        ...base, decision: f.decision || "CONFIRMATION_DECISION_UNSPECIFIED", documentNumber: opt(f.documentNumber), remarks: opt(f.remarks),
      } }));
      break;
    case "recordPerformance":
      r = await call(api.POST("/v1/{name}:recordPerformance", { params: { path }, body: { ...base, status: f.performanceStatus || "PERFORMANCE_STATUS_UNSPECIFIED", remarks: opt(f.remarks) } }));
      break;
    case "recordFollowUp":
      r = await call(api.POST("/v1/{name}:recordFollowUp", { params: { path }, body: {
        ...base, findings: f.findings.trim(), purpose: opt(f.purpose), partyIds: f.partyIds.length ? f.partyIds : undefined,
        performanceStatus: f.performanceStatus || undefined, visitor: opt(f.visitor),
      } }));
      break;
    case "close":
      r = await call(api.POST("/v1/{name}:close", { params: { path }, body: { ...base, comment: opt(f.comment), noFollowUpReason: opt(f.noFollowUpReason) } }));
      break;
    case "update": {
      const body = updateBody(c, f);
      if (Object.keys(body).length === 1) return c; // nothing changed
      r = await call(api.PATCH("/v1/{case.name}", { params: { path: { "case.name": name }, query: { requestId } }, body: body as unknown as Case }));
      break;
    }
    case "recuse":
      r = await call(api.POST("/v1/{name}:recuse", { params: { path }, body: { ...base, reason: f.reason.trim() } }));
      break;
    case "withdraw":
      r = await call(api.POST("/v1/{name}:withdraw", { params: { path }, body: { ...base, reason: opt(f.reason) } }));
      break;
  }
  if (!r.case) throw new Error(`the answer to ${verb} holds no case`);
  return r.case;
}
