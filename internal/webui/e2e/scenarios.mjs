// The browser scenarios. Each drives the workbench as a user would and
// checks the result through the API as well as on the page.
import { randomUUID } from "node:crypto";

/**
 * openCaseFor registers, accepts and assigns a case to demo-mediator
 * (路玉梅, mediators/m-003 of 西峰区妇联巾帼调解工作室) through the API as the
 * studio's lead, so that her 我的待办 holds a case whatever state the
 * demo data left hers in.
 */
export async function openCaseFor(h, summary) {
  const created = await h.as("demo-lead", "POST", `/v1/cases?requestId=${randomUUID()}`, {
    disputeType: "DISPUTE_TYPE_MARRIAGE_FAMILY",
    source: "CASE_SOURCE_WALK_IN",
    summary,
    regionCode: "621002",
    parties: [
      { id: "p1", name: "王秀英", role: "PARTY_ROLE_APPLICANT", gender: "GENDER_FEMALE", idType: "ID_TYPE_RESIDENT_ID_CARD",
        idNumber: "621002195005010024", phone: "13909341234", address: "西峰区肖金镇米王村" },
      { id: "p2", name: "王建国", role: "PARTY_ROLE_RESPONDENT", phone: "13909345678" },
    ],
  });
  const name = created.case.name;
  await h.as("demo-lead", "POST", `/v1/${name}:accept`, {});
  await h.as("demo-lead", "POST", `/v1/${name}:assign`, { organization: "organizations/xifeng-women-studio", mediator: "mediators/m-003" });
  return h.as("demo-mediator", "GET", `/v1/${name}`).then((r) => r.case);
}

export const scenarios = {
  // Priority 1 of the workbench: a mediator signs in and sees 我的待办.
  async "mediator-todo"(h) {
    const c = await openCaseFor(h, "赡养费纠纷：待办页测试");
    const page = await h.page();
    await page.goto(h.base + "/");
    await page.waitForURL(/\/login/);
    h.check(await page.getByRole("button", { name: "登录" }).isVisible(), "an unsigned visitor gets the sign-in page");
    await h.shot(page, "login");
    await h.signIn(page, "demo-mediator");
    await page.waitForURL(/\/todo$/);
    h.check(true, "a mediator lands on 我的待办");
    const card = page.locator("[data-test=todo-case]", { hasText: c.caseNumber });
    await card.waitFor();
    h.check(await card.isVisible(), `我的待办 lists ${c.caseNumber}`);
    h.check((await card.innerText()).includes("王秀英"), "the card names the parties");
    // The API agrees: the case is hers and open.
    const viaApi = await h.as("demo-mediator", "GET", `/v1/${c.name}`);
    h.check(viaApi.case.mediator === "mediators/m-003" && viaApi.case.state === "CASE_STATE_ASSIGNED", "the API has the case assigned to her", viaApi.case.state);
    h.check((await page.locator("[data-test=user]").innerText()).includes("路玉梅"), "the header names the signed-in mediator");
    await h.shot(page, "todo");
  },
};
