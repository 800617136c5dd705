import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import ActionDialog from "./ActionDialog.vue";
import type { Case } from "../api/client";

const kase: Case = {
  name: "cases/0190f3c2-0000-7000-8000-000000000001",
  caseNumber: "西峰调〔2026〕00001号",
  state: "CASE_STATE_ASSIGNED",
  etag: "v3",
  disputeType: "DISPUTE_TYPE_MARRIAGE_FAMILY",
  source: "CASE_SOURCE_WALK_IN",
  summary: "赡养费纠纷",
  regionCode: "621002",
  parties: [
    { id: "p1", name: "王秀英", role: "PARTY_ROLE_APPLICANT" },
    { id: "p2", name: "王建国", role: "PARTY_ROLE_RESPONDENT" },
  ],
};

const schedule = { verb: "scheduleSession", displayName: "安排调解", method: "mediation.v1.CaseService/ScheduleSession" };
const reject = { verb: "reject", displayName: "不予受理", method: "mediation.v1.CaseService/RejectCase" };
const update = { verb: "update", displayName: "修改登记信息", method: "mediation.v1.CaseService/UpdateCase" };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function mountDialog(action: typeof schedule, c: Case = kase) {
  return mount(ActionDialog, {
    props: { action, case: c, sessions: [], stale: false },
    attachTo: document.body,
    // Element Plus shows a field's error inside a transition: render it for real.
    global: { stubs: { transition: false } },
  });
}

const q = (sel: string) => document.body.querySelector(sel);

/** settle lets promises, renders and Element Plus's transitions finish. */
async function settle(): Promise<void> {
  await flushPromises();
  await new Promise((r) => setTimeout(r, 150)); // the error shows after a 100 ms debounce
  await flushPromises();
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.innerHTML = "";
});

describe("ActionDialog", () => {
  it("asks for required fields before calling the service", async () => {
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    mountDialog(reject);
    await flushPromises();
    (q("[data-test=submit]") as HTMLButtonElement).click();
    await settle();
    expect(fetch).not.toHaveBeenCalled();
    expect(document.body.textContent).toContain("必填");
  });

  it("sends the etag read and a requestId, and reports the new case", async () => {
    let sent: Record<string, unknown> = {};
    vi.stubGlobal("fetch", vi.fn(async (req: Request) => {
      expect(req.url).toContain("/v1/cases/0190f3c2-0000-7000-8000-000000000001:reject");
      sent = await req.json();
      return json(200, { case: { ...kase, state: "CASE_STATE_CLOSED", etag: "v4" } });
    }));
    const w = mountDialog(reject, { ...kase, state: "CASE_STATE_INTAKE" });
    await flushPromises();
    const reason = q("textarea[name=reason]") as HTMLTextAreaElement;
    reason.value = "不属于民间纠纷";
    reason.dispatchEvent(new Event("input"));
    (q("[data-test=submit]") as HTMLButtonElement).click();
    await settle();
    expect(sent.etag).toBe("v3");
    expect(sent.reason).toBe("不属于民间纠纷");
    expect(String(sent.requestId)).toMatch(/^[0-9a-f-]{36}$/);
    const done = w.emitted("done");
    expect(done?.[0]?.[0]).toMatchObject({ state: "CASE_STATE_CLOSED" });
  });

  it("puts the service's field violation at the field", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => json(400, {
      code: 3, message: "place: required unless the session is online",
      details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field: "place", description: "required unless the session is online: where it takes place" }] }],
    })));
    const w = mountDialog(schedule);
    await flushPromises();
    const vm = w.vm as unknown as { $: { setupState: { form: { startTime: Date | null } } } };
    vm.$.setupState.form.startTime = new Date("2026-12-08T02:00:00Z");
    (q("[data-test=submit]") as HTMLButtonElement).click();
    await settle();
    const item = q("input[name=place]")?.closest(".el-form-item");
    expect(item?.querySelector(".el-form-item__error")?.textContent).toContain("required unless the session is online");
    expect(q("[data-test=refusal]")).toBeNull();
  });

  it("on a stale etag says so, offers a reload, and keeps what was typed", async () => {
    const fetch = vi.fn(async () => json(409, {
      code: 10, message: "case changed since the etag was read",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "CONCURRENT_CHANGE" }],
    }));
    vi.stubGlobal("fetch", fetch);
    const w = mountDialog(schedule);
    await flushPromises();
    const vm = w.vm as unknown as { $: { setupState: { form: { startTime: Date | null; place: string } } } };
    vm.$.setupState.form.startTime = new Date("2026-12-08T02:00:00Z");
    vm.$.setupState.form.place = "肖金镇调解室";
    (q("[data-test=submit]") as HTMLButtonElement).click();
    await settle();
    expect(q("[data-test=stale]")?.textContent).toContain("已被他人修改");
    (q("[data-test=reload]") as HTMLButtonElement).click();
    expect(w.emitted("reload")).toHaveLength(1);
    // The page reloads the case: a new etag; the notice goes, the input stays.
    await w.setProps({ case: { ...kase, etag: "v4" } });
    await flushPromises();
    expect(q("[data-test=stale]")).toBeNull();
    expect((q("input[name=place]") as HTMLInputElement).value).toBe("肖金镇调解室");
    expect(fetch).toHaveBeenCalledOnce();
  });

  it("修改登记信息 starts from the case and sends only what changed, with the etag", async () => {
    let sent: Record<string, unknown> = {};
    let method = "";
    let url = "";
    vi.stubGlobal("fetch", vi.fn(async (req: Request) => {
      method = req.method;
      url = req.url;
      sent = await req.json();
      return json(200, { case: { ...kase, summary: String(sent.summary), familyViolence: true, etag: "v4" } });
    }));
    const w = mountDialog(update);
    await flushPromises();
    const summary = q("textarea[name=summary]") as HTMLTextAreaElement;
    expect(summary.value).toBe("赡养费纠纷");
    summary.value = "赡养费纠纷，涉及老人居住安排";
    summary.dispatchEvent(new Event("input"));
    (q("input[name=familyViolence]") as HTMLInputElement).click();
    (q("[data-test=submit]") as HTMLButtonElement).click();
    await settle();
    expect(method).toBe("PATCH");
    expect(url).toMatch(/\/v1\/cases\/0190f3c2-0000-7000-8000-000000000001\?requestId=[0-9a-f-]{36}$/);
    expect(sent).toEqual({ etag: "v3", summary: "赡养费纠纷，涉及老人居住安排", familyViolence: true });
    expect(w.emitted("done")?.[0]?.[0]).toMatchObject({ etag: "v4", familyViolence: true });
  });

  it("修改登记信息 shows the service's violation of case.summary at the summary", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => json(400, {
      code: 3, message: "case.summary: at most 2000 characters",
      details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field: "case.summary", description: "at most 2000 characters" }] }],
    })));
    mountDialog(update);
    await flushPromises();
    const summary = q("textarea[name=summary]") as HTMLTextAreaElement;
    summary.value = "改";
    summary.dispatchEvent(new Event("input"));
    (q("[data-test=submit]") as HTMLButtonElement).click();
    await settle();
    const item = summary.closest(".el-form-item");
    expect(item?.querySelector(".el-form-item__error")?.textContent).toContain("at most 2000 characters");
    expect(q("[data-test=refusal]")).toBeNull();
  });
});
