// The lifecycle as the service runs it (GET /v1/workflow), read once, and
// the actions a user may take on a case: those the case's state allows
// and the user's role may call. The service may still refuse for a finer
// reason (not the case's mediator, another organization's case): the
// refusal is shown where the action was tried.
import { api, call, type Case, type Schemas } from "../api/client";

export type Workflow = Schemas["v1Workflow"];
export type WorkflowAction = Schemas["v1WorkflowAction"];

let cached: Promise<Workflow> | null = null;

/** loadWorkflow returns the lifecycle, fetched once per page load. */
export function loadWorkflow(): Promise<Workflow> {
  if (!cached) {
    cached = call(api.GET("/v1/workflow")).then((r) => r.workflow ?? {});
    cached.catch(() => (cached = null));
  }
  return cached;
}

/** The actions the workbench offers, in the order it shows them. */
export const actionOrder = [
  "accept", "reject", "assign", "startMediation", "scheduleSession", "recordSession", "cancelSession",
  "recordAgreement", "recordFailure", "extendDeadline", "requestConfirmation", "recordConfirmation",
  "recordPerformance", "recordFollowUp", "close", "update", "recuse", "withdraw",
] as const;

/** A verb the workbench has a form for. */
export type Verb = (typeof actionOrder)[number];

/**
 * allowedActions lists the verbs offered on a case: allowed in its state
 * by the workflow, callable by the user's role (methods, from GET
 * /v1/caller), and with a form in the workbench, in actionOrder.
 */
export function allowedActions(wf: Workflow, c: Pick<Case, "state">, may: (method: string) => boolean): WorkflowAction[] {
  const state = wf.states?.find((s) => s.state === c.state);
  const allowed = new Set(state?.allowedActions ?? []);
  const out: WorkflowAction[] = [];
  for (const verb of actionOrder) {
    if (!allowed.has(verb)) continue;
    const a = wf.actions?.find((x) => x.verb === verb);
    if (a?.method && may(a.method)) out.push(a);
  }
  return out;
}
