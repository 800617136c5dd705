// The browser scenarios. Each drives the workbench as a user would and
// checks the result through the API as well as on the page.
import { randomUUID } from "node:crypto";
import { choose, dialog, tomorrowAt } from "./harness.mjs";

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

  // The acceptance's mediator flow: find the case in 我的待办, schedule and
  // record a session, record an agreement, print its preview, record a
  // follow-up and close the case.
  async "mediator-flow"(h) {
    const c = await openCaseFor(h, "赡养费纠纷：申请人要求被申请人每月支付赡养费");
    const page = await h.page();
    await h.signIn(page, "demo-mediator");
    await page.locator("[data-test=todo-case]", { hasText: c.caseNumber }).click();
    await page.waitForURL(/\/cases\//);
    await page.locator("[data-test=case-state]", { hasText: "已分派" }).waitFor();
    h.check(true, "the case opens from 我的待办, 已分派");
    const verbs = await page.locator("[data-test=actions] button").evaluateAll((bs) => bs.map((b) => b.dataset.verb));
    h.check(!verbs.includes("assign") && !verbs.includes("close") && verbs.includes("scheduleSession"),
      "the mediator is offered her actions only (no 分派, no 结案 before agreement)", verbs);
    await h.shot(page, "case-detail");

    // 安排调解
    await page.locator("[data-verb=scheduleSession]").click();
    let dlg = dialog(page, "安排调解");
    const when = tomorrowAt(10);
    await dlg.getByPlaceholder("选择日期和时间").fill(when);
    await dlg.getByPlaceholder("选择日期和时间").press("Enter");
    await dlg.locator("input[name=place]").fill("西峰区妇联巾帼调解工作室");
    await h.shot(page, "action-schedule");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    await page.locator("[data-test=session]", { hasText: "已安排" }).waitFor();
    let sessions = (await h.as("demo-mediator", "GET", `/v1/${c.name}/sessions`)).sessions;
    h.check(sessions.length === 1 && sessions[0].status === "SESSION_STATUS_SCHEDULED" && sessions[0].place === "西峰区妇联巾帼调解工作室",
      "the API holds the scheduled session", sessions);

    // 开始调解, then 记录调解笔录
    await page.locator("[data-verb=startMediation]").click();
    dlg = dialog(page, "开始调解");
    await dlg.locator("[data-test=submit]").click();
    await page.locator("[data-test=case-state]", { hasText: "调解中" }).waitFor();
    h.check(true, "开始调解 makes it 调解中 on the page");
    await page.locator("[data-verb=recordSession]").click();
    dlg = dialog(page, "记录调解笔录");
    await dlg.locator("textarea[name=minutes]").fill("调解员告知双方权利义务；双方陈述；被申请人同意支付赡养费。");
    await dlg.locator("input[name=result]").fill("达成协议");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    await page.locator("[data-test=session]", { hasText: "已举行" }).waitFor();
    sessions = (await h.as("demo-mediator", "GET", `/v1/${c.name}/sessions`)).sessions;
    h.check(sessions[0].status === "SESSION_STATUS_HELD" && sessions[0].minutes.includes("被申请人同意"), "the API holds the minutes, session 已举行", sessions[0]);
    await h.shot(page, "case-sessions");

    // 调解成功: the agreement with a structured obligation
    await page.locator("[data-verb=recordAgreement]").click();
    dlg = dialog(page, "调解成功");
    await dlg.locator("textarea[name=facts]").fill("申请人年逾七旬，被申请人系其子，自2025年起未支付赡养费。");
    await dlg.locator("textarea[name=terms]").fill("王建国自2027年1月起每月10日前支付赡养费800元。");
    await dlg.locator("[data-test=add-obligation]").click();
    const ob = dlg.locator("[data-test=obligation]").first();
    await ob.getByPlaceholder("义务内容").fill("补付2025年度赡养费");
    await ob.getByPlaceholder("金额（元）").fill("9600");
    await dlg.locator("input[name=performance]").fill("银行转账");
    await h.shot(page, "action-agreement");
    await dlg.locator("[data-test=submit]").click();
    await page.locator("[data-test=case-state]", { hasText: "调解成功" }).waitFor();
    let now = (await h.as("demo-mediator", "GET", `/v1/${c.name}`)).case;
    const o = now.agreement?.obligations?.[0];
    h.check(now.state === "CASE_STATE_AGREED" && o?.obligorPartyId === "p2" && o?.obligeePartyId === "p1" && Number(o?.amount) === 9600,
      "the API holds the agreement with its obligation (王建国 owes 王秀英 9600)", now.agreement);
    h.check((await page.locator("[data-test=terms]").innerText()).includes("每月10日前支付赡养费800元"), "the 协议 tab shows the terms");
    await h.shot(page, "case-agreement");

    // 打印预览
    await page.locator("[data-test=print-preview]").click();
    const frame = page.frameLocator("iframe[title=人民调解协议书]");
    await frame.locator("text=人民调解协议书").first().waitFor();
    h.check((await frame.locator("body").innerText()).includes("每月10日前支付赡养费800元"), "the print preview is the 人民调解协议书 with the terms");
    const doc = await h.raw(await h.token("demo-mediator"), "GET", `/v1/${c.name}/agreement.html`);
    h.check(doc.status === 200 && String(doc.json).includes("人民调解协议书"), "the API serves the same document");
    await h.shot(page, "agreement-print");
    await dialog(page, "打印预览：人民调解协议书").getByRole("button", { name: "关闭", exact: true }).click();

    // 回访
    await page.locator("[data-verb=recordFollowUp]").click();
    dlg = dialog(page, "回访");
    await dlg.getByPlaceholder("例如：了解协议履行情况").fill("了解协议履行情况");
    await dlg.locator("textarea[name=findings]").fill("已按约支付首月赡养费。");
    await dlg.getByText("已履行", { exact: true }).click();
    await dlg.locator("[data-test=submit]").click();
    await page.locator("[data-test=follow-up]").first().waitFor();
    const fus = (await h.as("demo-mediator", "GET", `/v1/${c.name}/followUps`)).followUps;
    h.check(fus.length === 1 && fus[0].findings === "已按约支付首月赡养费。", "the API holds the follow-up", fus);
    h.check((await page.locator("[data-test=performance-status]").innerText()) === "已履行", "the page shows 已履行");
    await h.shot(page, "case-performance");

    // 结案
    await page.locator("[data-verb=close]").click();
    dlg = dialog(page, "结案");
    await dlg.locator("[data-test=submit]").click();
    await page.locator("[data-test=case-state]", { hasText: "结案" }).waitFor();
    now = (await h.as("demo-mediator", "GET", `/v1/${c.name}`)).case;
    h.check(now.state === "CASE_STATE_CLOSED" && now.outcome === "CASE_OUTCOME_AGREEMENT", "the API has the case closed with an agreement", now.state);
    h.check(await page.locator("[data-test=actions]").count() === 0, "a closed case offers no actions");
    await page.getByRole("tab", { name: "历史" }).click();
    const history = await page.locator("[data-test=event]").allInnerTexts();
    h.check(history.length >= 9 && history.some((t) => t.includes("结案")) && history.some((t) => t.includes("demo-mediator")),
      "the 历史 tab lists every step with who did it", history.length);
    await h.shot(page, "case-history");
  },
};
