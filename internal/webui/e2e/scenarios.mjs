// The browser scenarios. Each drives the workbench as a user would and
// checks the result through the API as well as on the page.
import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
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

/** countCases pages through ListCases with a filter as a user: how many cases it lists. */
export async function countCases(h, user, filter) {
  let n = 0;
  let token = "";
  do {
    const q = new URLSearchParams({ pageSize: "1000" });
    if (filter) q.set("filter", filter);
    if (token) q.set("pageToken", token);
    const r = await h.as(user, "GET", `/v1/cases?${q}`);
    n += (r.cases ?? []).length;
    token = r.nextPageToken ?? "";
  } while (token);
  return n;
}

/** statistics reads GetCaseStatistics as demo-supervisor. */
async function statistics(h, filter, groupBy) {
  const q = new URLSearchParams();
  if (filter) q.set("filter", filter);
  if (groupBy) q.set("groupBy", groupBy);
  return h.as("demo-supervisor", "GET", `/v1/caseStatistics?${q}`);
}

/** figureOf reads a figure of CaseFigures (int64s come as strings, zeros are left out). */
function figureOf(f, name) {
  if (name.startsWith("state:")) return Number(f?.states?.find((s) => s.state === name.slice(6))?.count ?? 0);
  return Number(f?.[name] ?? 0);
}

/** shownNumber reads a number shown on the page. */
async function shownNumber(locator) {
  return Number((await locator.innerText()).replace(/[^0-9]/g, ""));
}

/**
 * drillsDown clicks a figure (want: its value on the dashboard) and checks
 * that 案件列表 opens with a filter whose cases, counted through ListCases,
 * are as many as the figure, that the list says so, and that its rows are
 * ListCases' first page for that filter; then goes back to the dashboard.
 */
async function drillsDown(h, page, click, want, what, shot = "") {
  const asked = [];
  const seen = (r) => {
    const u = new URL(r.url());
    // the list's count: the dashboard's own calls all group
    if (u.pathname === "/v1/caseStatistics" && !u.searchParams.has("groupBy")) asked.push(u.searchParams.get("filter") ?? "");
  };
  page.on("request", seen);
  await click();
  await page.waitForURL(/\/cases\?/);
  const params = new URL(page.url()).searchParams;
  const filter = params.get("f") ?? "";
  h.check(filter !== "", `${what}: the list gets the figure's filter`, page.url());
  await page.locator("[data-test=total]").waitFor();
  page.off("request", seen);
  h.check(params.get("fig") && asked.includes(params.get("sf") ?? ""), `${what}: the list counts it as the figure ${params.get("fig")} of the statistics' summaries`, { asked, sf: params.get("sf") });
  const shown = await shownNumber(page.locator("[data-test=total]"));
  const listed = await countCases(h, "demo-supervisor", filter);
  h.check(listed === want && shown === want, `${what}: ${want} on the dashboard = ${listed} listed by ListCases with the list's filter = 共 ${shown} 件`, { filter, want, listed, shown });
  const first = await h.as("demo-supervisor", "GET", `/v1/cases?pageSize=20&filter=${encodeURIComponent(filter)}`);
  const numbers = (first.cases ?? []).map((c) => c.caseNumber);
  await h.eventually(`${what}: the list's rows are ListCases' first page (${numbers.length})`, async () => {
    const rows = numbers.length ? (await page.locator("[data-test=case-table] tbody tr").allInnerTexts()).map((t) => t.split(/\s/)[0]) : [];
    return [rows.length === numbers.length && rows.every((r, i) => r === numbers[i]), rows];
  });
  if (shot) await h.shot(page, shot);
  await page.goBack();
  await page.waitForURL(/\/dashboard/);
  await page.locator("[data-test=fig-total-cases]").waitFor();
}

export const scenarios = {
  // Priority 1 of the workbench: a mediator signs in and sees 我的待办.
  async "mediator-todo"(h) {
    const c = await openCaseFor(h, "赡养费纠纷：待办页测试");
    const at = new Date(Date.now() + 2 * 86400_000);
    await h.as("demo-mediator", "POST", `/v1/${c.name}:scheduleSession`, { startTime: at.toISOString(), place: "西峰区妇联巾帼调解工作室" });
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
    const week = await page.locator("[data-test=sessions]").innerText();
    h.check(week.includes(c.caseNumber), "the session in two days is listed under 调解安排", week);
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
    await page.locator("[data-test=terms]").waitFor(); // the page turns to 协议 once the case is reloaded
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
    const events = (await h.as("demo-mediator", "GET", `/v1/${c.name}/events`)).events;
    await h.eventually("the 历史 tab lists every step of the API's history with who did it", async () => {
      const history = await page.locator("[data-test=event]").allInnerTexts();
      return [history.length === events.length && history.at(-1).includes("结案") && history.at(-1).includes("demo-mediator"), history.length];
    });
    await h.shot(page, "case-history");
  },

  // 登录's errors: a wrong password, then throttling with the wait; and
  // sign-out revokes the token on the service.
  async "login-errors-and-sign-out"(h) {
    const page = await h.page();
    await page.goto(h.base + "/login");
    const user = `nobody-${randomUUID().slice(0, 8)}`;
    for (let i = 1; i <= 6; i++) {
      await page.getByLabel("用户名").fill(user);
      await page.getByLabel("密码", { exact: true }).fill("not-the-password");
      await page.locator("[data-test=login-submit]").click();
      await page.locator("[data-test=login-error]").waitFor();
      const text = await page.locator("[data-test=login-error]").innerText();
      if (i === 1) h.check(text.includes("用户名或密码不正确"), "a wrong password is said plainly", text);
      if (i === 6) {
        h.check(text.includes("稍后再试") && /\d+ (秒|分钟)后/.test(text), "the sixth attempt says 稍后再试 with the wait", text);
        await h.shot(page, "login-throttled");
      }
      await page.waitForTimeout(100);
    }
    const api = await h.raw("", "POST", "/v1/sessions", { username: user, password: "not-the-password" });
    h.check(api.status === 429 && Number(api.headers.get("Retry-After")) > 0, "the API throttles the same username, with Retry-After", api.status);

    await h.signIn(page, "demo-supervisor");
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("mediationd.session") ?? "{}").token);
    h.check(typeof token === "string" && token.length > 10, "the token is in this tab's sessionStorage");
    h.check((await page.context().cookies()).length === 0, "no cookie holds it");
    h.check((await h.raw(token, "GET", "/v1/caller")).status === 200, "the API accepts the token while signed in");
    await page.locator("[data-test=sign-out]").click();
    await page.waitForURL(/\/login/);
    h.check(await page.evaluate(() => sessionStorage.getItem("mediationd.session")) === null, "sign-out forgets the token");
    h.check((await h.raw(token, "GET", "/v1/caller")).status === 401, "sign-out revoked the token on the service");
  },

  // A stale etag: someone changes the case while the form is open; the
  // form says so, reloads the case and keeps what was typed.
  async "stale-etag"(h) {
    const c = await openCaseFor(h, "邻里纠纷：并发修改测试");
    const page = await h.page();
    await h.signIn(page, "demo-mediator");
    await page.goto(`${h.base}/cases/${c.name.slice(6)}`);
    await page.locator("[data-verb=scheduleSession]").click();
    const dlg = dialog(page, "安排调解");
    await dlg.getByPlaceholder("选择日期和时间").fill(tomorrowAt(15));
    await dlg.getByPlaceholder("选择日期和时间").press("Enter");
    await dlg.locator("input[name=place]").fill("肖金镇调解室");
    // Meanwhile, through the API, the case changes.
    await h.as("demo-mediator", "POST", `/v1/${c.name}:scheduleSession`, { startTime: new Date(Date.now() + 3 * 86400_000).toISOString(), place: "西峰区妇联巾帼调解工作室" });
    await dlg.locator("[data-test=submit]").click();
    await dlg.locator("[data-test=stale]").waitFor();
    h.check((await dlg.locator("[data-test=stale]").innerText()).includes("已被他人修改"), "the form says the case was changed by someone else");
    await h.shot(page, "stale-etag");
    h.check((await h.as("demo-mediator", "GET", `/v1/${c.name}/sessions`)).sessions.length === 1, "the refused request wrote nothing");
    await dlg.locator("[data-test=reload]").click();
    await dlg.locator("[data-test=stale]").waitFor({ state: "hidden" });
    h.check(await dlg.locator("input[name=place]").inputValue() === "肖金镇调解室", "reloading kept what was typed");
    // The sessions (on the 调解记录 tab, hidden behind the dialog) follow the case's reload.
    await page.locator("[data-test=session]").first().waitFor({ state: "attached" });
    h.check(await page.locator("[data-test=session]").count() === 1, "the page shows the other user's session after the reload");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    const sessions = (await h.as("demo-mediator", "GET", `/v1/${c.name}/sessions`)).sessions;
    h.check(sessions.length === 2 && sessions.some((s) => s.place === "肖金镇调解室"), "the resubmitted form went through", sessions.map((s) => s.place));
  },

  // A refused action: the service's field violation appears at the field,
  // and nothing is written.
  async "refusal-at-field"(h) {
    const c = await openCaseFor(h, "合同纠纷：字段校验测试");
    const page = await h.page();
    await h.signIn(page, "demo-mediator");
    await page.goto(`${h.base}/cases/${c.name.slice(6)}`);
    await page.locator("[data-verb=scheduleSession]").click();
    const dlg = dialog(page, "安排调解");
    await dlg.getByPlaceholder("选择日期和时间").fill(tomorrowAt(9));
    await dlg.getByPlaceholder("选择日期和时间").press("Enter");
    await dlg.locator("[data-test=submit]").click(); // no place, not online: the service refuses
    const item = dlg.locator(".el-form-item", { has: page.locator("input[name=place]") });
    const err = item.locator(".el-form-item__error");
    await err.waitFor();
    const api = await h.raw(await h.token("demo-mediator"), "POST", `/v1/${c.name}:scheduleSession`, { startTime: new Date(Date.now() + 86400_000).toISOString() });
    const violation = api.json?.details?.find((d) => d["@type"]?.endsWith("BadRequest"))?.fieldViolations?.[0];
    h.check(api.status === 400 && violation?.field === "place", "the API refuses it with a violation of field place", api.json);
    h.check((await err.innerText()) === violation.description, "the page shows the service's message at 地点", await err.innerText());
    h.check(((await h.as("demo-mediator", "GET", `/v1/${c.name}/sessions`)).sessions ?? []).length === 0, "nothing was written");
    await h.shot(page, "refusal-at-field");
    // Fixing the field goes through.
    await dlg.locator("input[name=place]").fill("董志镇司法所");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    h.check((await h.as("demo-mediator", "GET", `/v1/${c.name}/sessions`)).sessions?.[0]?.place === "董志镇司法所", "after the fix the API holds the session");
  },

  // Freshness: a change by another user shows on an open case and an open list without a reload.
  async "freshness"(h) {
    const c = await openCaseFor(h, "物业纠纷：刷新测试");
    const page = await h.page();
    await h.signIn(page, "demo-mediator");
    await page.goto(`${h.base}/cases/${c.name.slice(6)}?poll=1000`);
    await page.locator("[data-test=case-state]", { hasText: "已分派" }).waitFor();
    await h.as("demo-mediator", "POST", `/v1/${c.name}:startMediation`, {});
    await page.locator("[data-test=case-state]", { hasText: "调解中" }).waitFor({ timeout: 10000 });
    h.check(true, "the open case shows 调解中 after another session started mediation");
    await page.goto(`${h.base}/todo?poll=1000`);
    const card = page.locator("[data-test=todo-case]", { hasText: c.caseNumber });
    await card.locator("text=调解中").waitFor();
    await h.as("demo-mediator", "POST", `/v1/${c.name}:withdraw`, { reason: "申请人撤回" });
    await card.waitFor({ state: "detached", timeout: 10000 });
    const now = (await h.as("demo-mediator", "GET", `/v1/${c.name}`)).case;
    h.check(now.state === "CASE_STATE_CLOSED", "the API has it closed (withdrawn)");
    h.check(true, "我的待办 drops the withdrawn case without a reload");
  },

  // A supervisor sees the API's masked numbers; the assigned mediator the full ones.
  async "supervisor-masked"(h) {
    const c = await openCaseFor(h, "赡养费纠纷：脱敏测试");
    const page = await h.page();
    await h.signIn(page, "demo-supervisor");
    await page.waitForURL(/\/cases$/);
    await page.locator("[data-test=case-table] tbody tr").first().waitFor();
    await h.shot(page, "case-list");
    await page.locator("input[name=q]").fill(c.caseNumber);
    await page.locator("[data-test=apply]").click();
    await page.waitForURL(/q=/);
    h.check(decodeURIComponent(page.url()).includes(c.caseNumber), "the search lives in the URL");
    await page.locator("[data-test=case-table] tbody tr", { hasText: c.caseNumber }).click();
    await page.getByRole("tab", { name: /当事人/ }).click();
    const id = await page.locator("[data-test=id-number]").first().innerText();
    const phone = await page.locator("[data-test=phone]").first().innerText();
    const api = (await h.as("demo-supervisor", "GET", `/v1/${c.name}`)).case.parties[0];
    h.check(id === api.idNumber && id.includes("*") && !id.includes("195005"), "the supervisor sees the ID number masked as the API gives it", id);
    h.check(phone === api.phone && phone.includes("****"), "and the phone number masked", phone);
    h.check((await page.locator("[data-test=actions] [data-verb=close]").count()) === 0, "a supervisor gets no mediator actions");
    await h.shot(page, "supervisor-parties");
    const med = await h.page();
    await h.signIn(med, "demo-mediator");
    await med.goto(`${h.base}/cases/${c.name.slice(6)}`);
    await med.getByRole("tab", { name: /当事人/ }).click();
    h.check((await med.locator("[data-test=id-number]").first().innerText()) === "621002195005010024", "the assigned mediator sees the full number");
  },

  // A lead assigns from 待分配 in one click, then moves one mediator's open cases to another with one reason.
  async "lead-assign-and-bulk-reassign"(h) {
    const created = await h.as("demo-lead", "POST", `/v1/cases?requestId=${randomUUID()}`, {
      disputeType: "DISPUTE_TYPE_MARRIAGE_FAMILY", source: "CASE_SOURCE_WALK_IN", summary: "离婚后子女抚养费纠纷", regionCode: "621002",
      parties: [{ id: "p1", name: "李娟", role: "PARTY_ROLE_APPLICANT" }, { id: "p2", name: "张强", role: "PARTY_ROLE_RESPONDENT" }],
    });
    const waiting = (await h.as("demo-lead", "POST", `/v1/${created.case.name}:accept`, {})).case;
    const page = await h.page();
    await h.signIn(page, "demo-lead");
    await page.waitForURL(/\/assign$/);
    const card = page.locator("[data-test=waiting-case]", { hasText: waiting.caseNumber });
    // 待分配 shows 20 cases at a time, due first: the new one may be further down.
    await page.locator("[data-test=waiting-case]").first().waitFor();
    for (let i = 0; i < 25 && !(await card.count()); i++) {
      const more = page.locator("[data-test=show-more]");
      if (!(await more.count())) break;
      await more.click();
      await page.waitForTimeout(300);
    }
    await card.locator("[data-test=assign-one]").waitFor();
    const reasons = await card.locator(".as-reasons li").allInnerTexts();
    h.check(reasons.length > 0, "待分配 shows the suggestion with its reasons", reasons);
    await h.shot(page, "assign");
    await card.locator("[data-test=assign-one]").click();
    await card.locator("[data-test=assign-outcome]").waitFor();
    const after = (await h.as("demo-lead", "GET", `/v1/${waiting.name}`)).case;
    h.check(after.state === "CASE_STATE_ASSIGNED" && after.organization === "organizations/xifeng-women-studio" && after.mediator,
      "the API has it assigned inside the studio", after.mediator);

    // Bulk: two cases of 路玉梅 (m-003) go to 王芳 (m-004).
    const a = await openCaseFor(h, "批量改派一");
    const b = await openCaseFor(h, "批量改派二");
    await page.reload();
    await choose(page, page.locator("[data-test=bulk-from]"), "路玉梅");
    await page.locator("[data-test=bulk] tbody tr", { hasText: a.caseNumber }).waitFor();
    // Only the two new cases: untick the others.
    for (const row of await page.locator("[data-test=bulk] tbody tr").all()) {
      const text = await row.innerText();
      if (!text.includes(a.caseNumber) && !text.includes(b.caseNumber)) await row.locator(".el-checkbox").click();
    }
    await choose(page, page.locator("[data-test=bulk-to]"), "王芳");
    await page.locator("input[name=bulk-reason]").fill("路玉梅休假");
    await page.locator("[data-test=bulk-submit]").click();
    await page.locator("[data-test=bulk-results] li").nth(1).waitFor();
    const results = await page.locator("[data-test=bulk-results] li").allInnerTexts();
    h.check(results.length === 2 && results.every((r) => r.includes("已改派")), "both cases are reported moved", results);
    for (const x of [a, b]) {
      const now = (await h.as("demo-lead", "GET", `/v1/${x.name}`)).case;
      h.check(now.mediator === "mediators/m-004", `the API has ${x.caseNumber} with 王芳`, now.mediator);
      const ev = (await h.as("demo-lead", "GET", `/v1/${x.name}/events`)).events.at(-1);
      h.check(ev.action === "CASE_ACTION_ASSIGN" && ev.reason === "路玉梅休假", "with the one reason in its history", ev.reason);
    }
    await h.shot(page, "bulk-reassign");
  },

  // 登记纠纷: the intake form checks an ID number as the service does, then registers the case.
  async "intake"(h) {
    const page = await h.page();
    await h.signIn(page, "demo-mediator");
    await page.goto(h.base + "/cases/new");
    await choose(page, page.locator("[data-test=dispute-type]"), "邻里");
    const summary = `邻里纠纷：排水沟堵塞致邻居院墙受损 ${randomUUID().slice(0, 6)}`;
    await page.locator("textarea[name=summary]").fill(summary);
    const p0 = page.locator("[data-test=party-0]");
    await p0.locator("input[name=party-0-name]").fill("赵桂兰");
    await choose(page, p0.locator(".el-select").first(), "居民身份证");
    await p0.locator("input[name=party-0-idNumber]").fill("621002195005010025");
    await p0.locator("input[name=party-0-phone]").click();
    const idErr = p0.locator(".el-form-item", { has: page.locator("input[name=party-0-idNumber]") }).locator(".el-form-item__error");
    await idErr.waitFor();
    h.check((await idErr.innerText()).includes("校验码应为 4"), "a mistyped ID number is caught at the field", await idErr.innerText());
    await p0.locator("input[name=party-0-idNumber]").fill("621002195005010024");
    await p0.locator("input[name=party-0-phone]").fill("13909341234");
    await page.locator("[data-test=party-1] input[name=party-1-name]").fill("钱国强");
    await page.locator("[data-test=party-1] input[name=party-1-phone]").fill("0934-8621234");
    await h.shot(page, "intake");
    await page.locator("[data-test=intake-submit]").click();
    await page.waitForURL(/\/cases\/[0-9a-f-]{36}$/);
    await page.locator("[data-test=case-state]", { hasText: "登记" }).waitFor();
    const id = new URL(page.url()).pathname.split("/").pop();
    const c = (await h.as("demo-lead", "GET", `/v1/cases/${id}`)).case;
    h.check(c.summary === summary && c.state === "CASE_STATE_INTAKE" && c.disputeType === "DISPUTE_TYPE_NEIGHBOR", "the API holds the registered case", c.state);
    h.check(c.parties.length === 2 && c.parties[0].idNumber === "621002195005010024" && c.parties[1].phone === "0934-8621234", "with both parties as typed", c.parties.map((p) => p.name));
    h.check(await page.locator("[data-verb=accept]").isVisible(), "the new case offers 受理 to the mediator who registered it");
  },

  // 法院: the court desk sees its referrals and their results.
  async "court"(h) {
    // A referral of its own, whatever the demo data left open for the court.
    const number = `（2026）甘1002民诉前调${Math.floor(Math.random() * 90000) + 10000}号`;
    await h.as("demo-court", "POST", `/v1/cases?requestId=${randomUUID()}`, {
      disputeType: "DISPUTE_TYPE_CONTRACT_DEBT", source: "CASE_SOURCE_COURT_DELEGATED", summary: "借款纠纷：委派调解", regionCode: "621002",
      courtReferral: { courtCode: "甘1002", courtCaseNumber: number },
      parties: [{ name: "张三", role: "PARTY_ROLE_APPLICANT" }, { name: "李四", role: "PARTY_ROLE_RESPONDENT" }],
    });
    const page = await h.page();
    await h.signIn(page, "demo-court");
    await page.waitForURL(/\/court$/);
    await page.locator("[data-test=court-table] tbody tr").first().waitFor();
    const rows = await page.locator("[data-test=court-table] tbody tr").count();
    const api = await h.as("demo-court", "GET", "/v1/cases?pageSize=1000&filter=" + encodeURIComponent("(source = COURT_DELEGATED OR source = COURT_ENTRUSTED) AND (state = INTAKE OR state = ACCEPTED OR state = ASSIGNED OR state = MEDIATING)"));
    h.check(rows === (api.cases ?? []).length, `法院 lists the court's ${rows} open referrals, as the API does`, [rows, (api.cases ?? []).length]);
    h.check((api.cases ?? []).some((c) => c.courtReferral?.courtCaseNumber === number), "the API lists the new referral");
    h.check((await page.locator("[data-test=court-table]").innerText()).includes(number), "and so does 法院, by the court's case number");
    await h.shot(page, "court");
    await page.getByText("调解成功 · 司法确认").click();
    await page.waitForTimeout(800);
    await h.shot(page, "court-confirmation");
  },

  // 管理: every section of the administrator's pages, each checked against the API.
  async "admin"(h) {
    const page = await h.page();
    await h.signIn(page, "demo-admin");
    await page.waitForURL(/\/admin/);
    for (const [section, tab, api, key] of [
      ["organizations", "调解组织", "/v1/organizations?pageSize=1000", "organizations"],
      ["mediators", "调解员", "/v1/mediators?pageSize=1000", "mediators"],
      ["users", "用户", "/v1/users?pageSize=1000", "users"],
      ["keys", "API 密钥", "/v1/apiKeys?pageSize=1000", "apiKeys"],
      ["rules", "期限规则", "/v1/deadlineRules?pageSize=1000", "deadlineRules"],
    ]) {
      await page.getByRole("tab", { name: tab, exact: true }).click();
      const table = page.locator(`[data-test=admin-${section}]`);
      const want = ((await h.as("demo-admin", "GET", api))[key] ?? []).length;
      if (want > 0) await table.locator("tbody tr").first().waitFor();
      const rows = await table.locator("tbody tr").count();
      h.check(rows === want, `管理 · ${tab} lists ${want} rows, as the API does`, rows);
      await h.shot(page, `admin-${section}`);
    }
    h.check(page.url().endsWith("/admin/deadlineRules"), "the section is in the URL", page.url());

    // 新建调解组织 through the form: a region code the service refuses shows
    // at its field; corrected, the organization is created, as the API says.
    const suffix = randomUUID().slice(0, 8);
    const orgId = `e2e-room-${suffix}`;
    await page.getByRole("tab", { name: "调解组织", exact: true }).click();
    await page.locator("[data-test=new-organization]").click();
    let dlg = dialog(page, "新建调解组织");
    await dlg.locator("input[name=id]").fill(orgId);
    await dlg.locator("input[name=displayName]").fill(`庆城县测试调解室${suffix}`);
    await choose(page, dlg.locator("[data-test=field-type]"), "派驻调解室");
    await dlg.locator("input[name=regionCode]").fill("6210");
    await dlg.locator("input[name=phone]").fill("0934-3212345");
    await dlg.locator("[data-test=submit]").click();
    const fieldError = (name) => dlg.locator(`.el-form-item:has([name=${name}]) .el-form-item__error`);
    await fieldError("regionCode").waitFor();
    const regionError = await fieldError("regionCode").innerText();
    h.check(/6-digit/.test(regionError), "the service's violation of organization.region_code shows at the 地区代码 field", regionError);
    h.check((await h.raw(await h.token("demo-admin"), "GET", `/v1/organizations/${orgId}`)).status === 404, "and nothing was created");
    await h.shot(page, "admin-organization-violation");
    await dlg.locator("input[name=regionCode]").fill("621021");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    const org = (await h.as("demo-admin", "GET", `/v1/organizations/${orgId}`)).organization;
    h.check(org.displayName === `庆城县测试调解室${suffix}` && org.type === "ORGANIZATION_TYPE_STATIONED_ROOM" && org.regionCode === "621021" && org.phone === "0934-3212345",
      "the API has the organization as the form gave it", org);
    const orgRow = page.locator("[data-test=admin-organizations] tbody tr", { hasText: org.displayName });
    await orgRow.waitFor();
    h.check(true, "the list shows the new organization");

    // The same id again: the service's refusal shows in the form.
    await page.locator("[data-test=new-organization]").click();
    dlg = dialog(page, "新建调解组织");
    await dlg.locator("input[name=id]").fill(orgId);
    await dlg.locator("input[name=displayName]").fill("重复的调解室");
    await choose(page, dlg.locator("[data-test=field-type]"), "派驻调解室");
    await dlg.locator("input[name=regionCode]").fill("621021");
    await dlg.locator("[data-test=submit]").click();
    await dlg.locator("[data-test=refusal]").waitFor();
    const dup = await dlg.locator("[data-test=refusal]").innerText();
    h.check(dup.includes(orgId), "a duplicate id is refused in the form, naming the id", dup);
    await dlg.getByRole("button", { name: "取消" }).click();
    await dlg.waitFor({ state: "hidden" });

    // 修改: the phone changes, nothing else; the etag read goes along.
    await orgRow.locator("[data-test=edit]").click();
    dlg = dialog(page, "修改调解组织");
    h.check((await dlg.locator("input[name=regionCode]").inputValue()) === "621021", "the edit form starts from the organization");
    await dlg.locator("input[name=phone]").fill("0934-3219999");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    const edited = (await h.as("demo-admin", "GET", `/v1/organizations/${orgId}`)).organization;
    h.check(edited.phone === "0934-3219999" && edited.displayName === org.displayName && edited.etag !== org.etag, "the API has the new phone, the rest unchanged", edited);

    // 新建调解员 in that organization.
    const medId = `e2e-m-${suffix}`;
    await page.getByRole("tab", { name: "调解员", exact: true }).click();
    await page.locator("[data-test=new-mediator]").click();
    dlg = dialog(page, "新建调解员");
    await dlg.locator("input[name=id]").fill(medId);
    await dlg.locator("input[name=displayName]").fill("测试调解员");
    await choose(page, dlg.locator("[data-test=field-organization]"), org.displayName);
    await choose(page, dlg.locator("[data-test=field-specialties]"), "邻里");
    await page.keyboard.press("Escape").catch(() => {});
    await dlg.locator("input[name=phone]").fill("13909341111");
    await h.shot(page, "admin-mediator-form");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    const med = (await h.as("demo-admin", "GET", `/v1/mediators/${medId}`)).mediator;
    h.check(med.displayName === "测试调解员" && med.organization === `organizations/${orgId}` && (med.specialties ?? []).join() === "DISPUTE_TYPE_NEIGHBOR",
      "the API has the mediator as the form gave it", med);
    await page.locator("[data-test=admin-mediators] tbody tr", { hasText: "测试调解员" }).waitFor();
    await h.shot(page, "admin-mediators-after");

    // Leave the demo data as the other scenarios expect it: the test's organization takes no cases.
    await h.as("demo-admin", "POST", `/v1/mediators/${medId}:deactivate`, {});
    await h.as("demo-admin", "POST", `/v1/organizations/${orgId}:deactivate`, {});

    // The auditor's 管理 is the audit trail.
    const aud = await h.page();
    await h.signIn(aud, "demo-auditor");
    await aud.waitForURL(/\/admin/);
    const rows = aud.locator("[data-test=admin-audit] tbody tr");
    await rows.first().waitFor();
    const want = ((await h.as("demo-auditor", "GET", "/v1/auditEvents?pageSize=200")).auditEvents ?? []).length;
    h.check(want > 0 && Math.abs((await rows.count()) - want) <= 2, `the auditor sees the audit trail (${want} latest events, as the API does)`, await rows.count());
    await h.shot(aud, "admin-audit");
  },

  // 管理 · 用户 and 期限规则 through their forms: a user created with a
  // mediator's scope signs in with the initial password, is renamed, gets a
  // new password; a deadline rule is created, changed and deleted.
  async "admin-users-and-rules"(h) {
    const page = await h.page();
    await h.signIn(page, "demo-admin");
    await page.waitForURL(/\/admin/);
    const suffix = randomUUID().slice(0, 8);
    const username = `e2e.${suffix}`;
    await page.getByRole("tab", { name: "用户", exact: true }).click();
    await page.locator("[data-test=new-user]").click();
    let dlg = dialog(page, "新建用户");
    await dlg.locator("input[name=id]").fill(username);
    await dlg.locator("input[name=displayName]").fill("测试用户");
    await dlg.locator("input[name=password]").fill("short");
    await choose(page, dlg.locator("[data-test=field-role]"), "调解员");
    await choose(page, dlg.locator("[data-test=field-organization]"), "西峰区妇联巾帼调解工作室");
    await choose(page, dlg.locator("[data-test=field-mediator]"), "mediators/m-004");
    await dlg.locator("[data-test=submit]").click();
    const pwError = dlg.locator(".el-form-item:has([name=password]) .el-form-item__error");
    await pwError.waitFor();
    h.check(/12/.test(await pwError.innerText()), "a short password is refused by the service at the password field", await pwError.innerText());
    await h.shot(page, "admin-user-form");
    await dlg.locator("input[name=password]").fill("e2e-initial-pass-2026");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    const u = (await h.as("demo-admin", "GET", `/v1/users/${username}`)).user;
    h.check(u.role === "ROLE_MEDIATOR" && u.organization === "organizations/xifeng-women-studio" && u.mediator === "mediators/m-004" && !u.regionCode,
      "the API has the user with the mediator's scope", u);
    const login = await h.raw("", "POST", "/v1/sessions", { username, password: "e2e-initial-pass-2026" });
    h.check(login.status === 200 && login.json.token, "the new user signs in with the initial password", login.status);

    const row = page.locator("[data-test=admin-users] tbody tr", { hasText: username });
    await row.locator("[data-test=edit]").click();
    dlg = dialog(page, "修改用户");
    await dlg.locator("input[name=displayName]").fill("测试用户（改）");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    const renamed = (await h.as("demo-admin", "GET", `/v1/users/${username}`)).user;
    h.check(renamed.displayName === "测试用户（改）" && renamed.mediator === "mediators/m-004", "the rename reaches the API, the scope unchanged", renamed);

    // A change of role takes the new scope and drops the old one.
    await row.locator("[data-test=edit]").click();
    dlg = dialog(page, "修改用户");
    await choose(page, dlg.locator("[data-test=field-role]"), "司法局 / 综治中心");
    await dlg.locator("input[name=regionCode]").fill("621000");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    const moved = (await h.as("demo-admin", "GET", `/v1/users/${username}`)).user;
    h.check(moved.role === "ROLE_SUPERVISOR" && moved.regionCode === "621000" && !moved.organization && !moved.mediator,
      "a change of role reaches the API with the new scope and without the old", moved);

    await row.locator("[data-test=set-password]").click();
    dlg = dialog(page, "重设密码：测试用户（改）");
    await dlg.locator("input[name=password]").fill("e2e-second-pass-2026");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    const again = await h.raw("", "POST", "/v1/sessions", { username, password: "e2e-second-pass-2026" });
    const old = await h.raw("", "POST", "/v1/sessions", { username, password: "e2e-initial-pass-2026" });
    h.check(again.status === 200 && old.status === 401, "the new password works and the old one no longer does", [again.status, old.status]);
    await h.as("demo-admin", "POST", `/v1/users/${username}:deactivate`, {});

    // 期限规则: a rule for a combination the demo data has none of.
    await page.getByRole("tab", { name: "期限规则", exact: true }).click();
    await page.locator("[data-test=new-rule]").click();
    dlg = dialog(page, "新建期限规则");
    await dlg.locator("input[name=id]").fill(`e2e-rule-${suffix}`);
    await dlg.locator("input[name=displayName]").fill("公安移送·派驻调解室");
    await choose(page, dlg.locator("[data-test=field-source]"), "公安移送");
    await choose(page, dlg.locator("[data-test=field-organizationType]"), "派驻调解室");
    await dlg.locator("input[name=days]").fill("20");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    const rule = (await h.as("demo-admin", "GET", "/v1/deadlineRules?pageSize=1000")).deadlineRules.find((r) => r.name === `deadlineRules/e2e-rule-${suffix}`);
    h.check(rule && rule.days === 20 && rule.source === "CASE_SOURCE_POLICE" && rule.organizationType === "ORGANIZATION_TYPE_STATIONED_ROOM", "the API has the rule", rule);
    const ruleRow = page.locator("[data-test=admin-rules] tbody tr", { hasText: "公安移送·派驻调解室" });
    await ruleRow.locator("[data-test=edit]").click();
    dlg = dialog(page, "修改期限规则");
    await dlg.locator("input[name=days]").fill("25");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    const changedRule = (await h.as("demo-admin", "GET", "/v1/deadlineRules?pageSize=1000")).deadlineRules.find((r) => r.name === rule.name);
    h.check(changedRule.days === 25 && changedRule.source === "CASE_SOURCE_POLICE", "the change of days reaches the API", changedRule);
    await h.shot(page, "admin-rules-after");
    await ruleRow.locator("[data-test=delete]").click();
    await page.getByRole("button", { name: "确定" }).click();
    await ruleRow.waitFor({ state: "detached" });
    const left = (await h.as("demo-admin", "GET", "/v1/deadlineRules?pageSize=1000")).deadlineRules.some((r) => r.name === rule.name);
    h.check(!left, "after confirmation the rule is deleted");
  },

  // 修改登记信息: the form starts from the case, saves the change, and the API agrees.
  async "case-update"(h) {
    const c = await openCaseFor(h, "赡养费纠纷：修改登记信息测试");
    const page = await h.page();
    await h.signIn(page, "demo-mediator");
    await page.goto(`${h.base}/cases/${c.name.slice(6)}`);
    await page.locator("[data-verb=update]").click();
    const dlg = dialog(page, "修改登记信息");
    const summary = dlg.locator("textarea[name=summary]");
    h.check((await summary.inputValue()) === "赡养费纠纷：修改登记信息测试", "the form starts from the case's summary");
    await summary.fill("");
    await dlg.locator("[data-test=submit]").click();
    await dlg.locator(".el-form-item:has(textarea[name=summary]) .el-form-item__error").waitFor();
    h.check(true, "an emptied summary is marked 必填 at its field");
    await summary.fill("赡养费纠纷：子女对老人居住安排有争议");
    await dlg.locator("label", { hasText: "涉家庭暴力" }).click();
    await h.shot(page, "case-update");
    await dlg.locator("[data-test=submit]").click();
    await dlg.waitFor({ state: "hidden" });
    const now = (await h.as("demo-mediator", "GET", `/v1/${c.name}`)).case;
    h.check(now.summary === "赡养费纠纷：子女对老人居住安排有争议" && now.familyViolence === true && now.disputeType === c.disputeType && now.state === c.state,
      "the API has the new summary and flag, the rest unchanged", now);
    const ev = (await h.as("demo-mediator", "GET", `/v1/${c.name}/events`)).events.at(-1);
    h.check(ev.action === "CASE_ACTION_UPDATE", "the change is in the case's history", ev.action);
    await page.getByText("家庭暴力").first().waitFor();
    h.check(true, "the page shows the 家庭暴力 flag");
  },


  // 统计: the supervisor's figures are the API's, and every kind of figure
  // drills down to the list of exactly its cases.
  async "dashboard"(h) {
    const page = await h.page();
    await h.signIn(page, "demo-supervisor");
    await page.locator(".wb-nav-item", { hasText: "统计" }).click();
    await page.waitForURL(/\/dashboard$/);
    await page.locator("[data-test=fig-total-cases]").waitFor();
    const totals = ["cases", "open", "overdue", "needsReassignment", "accepted", "succeeded", "failed", "withdrawnAfterAcceptance",
      "withdrawnBeforeAcceptance", "rejected", "groupDisputes", "escalationRisks", "courtReferrals", "confirmationRequested", "concluded", "performed"];
    const api = await statistics(h, "", "STATISTICS_GROUPING_REGION");
    await h.eventually("every figure of the totals on the dashboard is the API's", async () => {
      const seen = {};
      for (const f of totals) seen[f] = await shownNumber(page.locator(`[data-test=fig-total-${f}]`));
      return [totals.every((f) => seen[f] === figureOf(api.total, f)), { seen, api: api.total }];
    });
    const rate = (r) => `${(100 * r).toFixed(1)}%`;
    h.check((await page.locator("[data-test=rate-success]").innerText()) === rate(api.total.successRate) &&
      (await page.locator("[data-test=rate-success-of-accepted]").innerText()) === rate(api.total.successRateOfAccepted),
      `the success rates are the API's, ${rate(api.total.successRate)} of the concluded and ${rate(api.total.successRateOfAccepted)} of the accepted`);
    const fracs = await page.locator("[data-test=rate-concluded]").innerText();
    h.check(fracs.includes(`${figureOf(api.total, "succeeded")} / ${figureOf(api.total, "concluded")}`) && fracs.includes("已结束调解"),
      "成功率 shows its numerator and denominator", fracs);
    const rows = await page.locator("[data-test=group-table] .el-table__body-wrapper tbody tr").allInnerTexts();
    const want = api.groups.map((g) => [g.displayName, figureOf(g.figures, "cases"), figureOf(g.figures, "open")]);
    const got = rows.map((r) => r.split(/\s+/).filter(Boolean)).map((c) => [c[0], Number(c[1]), Number(c[2])]);
    h.check(JSON.stringify(got) === JSON.stringify(want), "the table by county is the API's grouping by region", { got, want });
    h.check(await page.locator("[data-test=fig-total-confirmationRequested]").evaluate((e) => e.tagName !== "BUTTON"),
      "申请司法确认, which no ListCases filter can select, is not clickable");
    await h.shot(page, "dashboard");

    // Each kind of figure drills down: the figure's cases, counted through ListCases.
    for (const f of ["open", "overdue", "accepted", "succeeded", "concluded", "failed", "withdrawnAfterAcceptance", "withdrawnBeforeAcceptance",
      "rejected", "groupDisputes", "escalationRisks", "courtReferrals", "performed"]) {
      await drillsDown(h, page, () => page.locator(`[data-test=fig-total-${f}]`).click(), figureOf(api.total, f), `the total ${f}`);
    }
    const xifeng = api.groups.find((g) => g.key === "621002");
    const row = page.locator("[data-test=group-table] .el-table__body-wrapper tbody tr", { hasText: "西峰区" });
    await drillsDown(h, page, () => row.locator("[data-test=cell-open]").click(), figureOf(xifeng.figures, "open"), "西峰区's open cases", "dashboard-drill-list");
    await drillsDown(h, page, () => row.locator("[data-test=cell-overdue]").click(), figureOf(xifeng.figures, "overdue"), "西峰区's overdue cases");
    await h.shot(page, "dashboard-after-drill");

    // A bar of a chart: 结案 in 案件阶段 (the last of six categories).
    const chart = page.locator("[data-test=chart-states]");
    await chart.scrollIntoViewIfNeeded();
    const box = await chart.boundingBox();
    const axis = 48; // the value axis' labels, left of the bars
    const x = box.x + 8 + axis + ((box.width - 24 - axis) * 5.5) / 6;
    await drillsDown(h, page, () => page.mouse.click(x, box.y + box.height - 60), figureOf(api.total, "state:CASE_STATE_CLOSED"), "the chart's 结案 bar");

    // An organization and a mediator, from the table's tabs.
    await page.getByRole("tab", { name: "调解组织" }).click();
    await page.waitForURL(/tab=organization/);
    const orgs = await statistics(h, "", "STATISTICS_GROUPING_ORGANIZATION");
    const studio = orgs.groups.find((g) => g.key === "organizations/xifeng-women-studio");
    const srow = page.locator("[data-test=group-table] .el-table__body-wrapper tbody tr", { hasText: studio.displayName });
    await srow.waitFor();
    await drillsDown(h, page, () => srow.locator("[data-test=cell-succeeded]").click(), figureOf(studio.figures, "succeeded"), `${studio.displayName}'s 调解成功`);
    // A raw filter typed into the URL, with no figure to read: counted case by case.
    const raw = 'region_code = "621002" AND (state = MEDIATING OR overdue = true)';
    await page.goto(`${h.base}/cases?f=${encodeURIComponent(raw)}`);
    await page.locator("[data-test=total]").waitFor();
    const rawCount = await countCases(h, "demo-supervisor", raw);
    h.check(await shownNumber(page.locator("[data-test=total]")) === rawCount && (await page.locator("[data-test=drill-filter]").innerText()) === raw,
      `a raw filter in the URL is shown with its ${rawCount} cases, as ListCases counts them`);
    await page.goBack();
    await page.waitForURL(/\/dashboard/);
    const unassigned = page.locator("[data-test=group-table] .el-table__body-wrapper tbody tr", { hasText: "未分派" }).locator("[data-test=cell-cases]");
    h.check(await unassigned.evaluate((e) => e.tagName !== "BUTTON"), "未分派 (no organization), which no filter can select, is not clickable");
  },

  // The dashboard's filters live in the URL and survive a reload; its figures follow them.
  async "dashboard-filters"(h) {
    const page = await h.page();
    await h.signIn(page, "demo-supervisor");
    await page.goto(h.base + "/dashboard");
    await page.locator("[data-test=fig-total-cases]").waitFor();
    await choose(page, page.locator("[data-test=f-region]"), "西峰区");
    await page.waitForURL(/region=621002/);
    await choose(page, page.locator("[data-test=f-type]"), "婚姻家庭");
    await page.waitForURL(/type=MARRIAGE_FAMILY/);
    await page.getByRole("tab", { name: "登记月份" }).click();
    await page.waitForURL(/tab=create_month/);
    await page.goto(page.url() + "&from=2025-01&to=2025-12");
    await page.reload();
    await page.locator("[data-test=fig-total-cases]").waitFor();
    const filter = 'region_code = "621002" AND create_time >= "2025-01-01T00:00:00+08:00" AND create_time < "2026-01-01T00:00:00+08:00" AND dispute_type = MARRIAGE_FAMILY';
    const api = await statistics(h, filter, "STATISTICS_GROUPING_CREATE_MONTH");
    h.check(figureOf(api.total, "cases") > 0, "the filter selects some cases", api.total);
    await h.eventually("after a reload the figures are the API's for region, type and months", async () => {
      const seen = [await shownNumber(page.locator("[data-test=fig-total-cases]")), await shownNumber(page.locator("[data-test=fig-total-open]")), await shownNumber(page.locator("[data-test=fig-total-succeeded]"))];
      return [seen.join() === [figureOf(api.total, "cases"), figureOf(api.total, "open"), figureOf(api.total, "succeeded")].join(), seen];
    });
    const inputs = await page.locator("[data-test=dash-filters] input").evaluateAll((es) => es.map((e) => e.value));
    h.check(inputs.includes("2025-01") && inputs.includes("2025-12"), "the month range is back in its picker", inputs);
    h.check((await page.locator("[data-test=f-region]").innerText()).includes("西峰区"), "the region is back in its select");
    h.check((await page.locator("[data-test=f-type]").innerText()).includes("婚姻家庭"), "the dispute type is back in its select");
    h.check((await page.getByRole("tab", { name: "登记月份" }).getAttribute("aria-selected")) === "true", "the table is still by month");
    const months = (await page.locator("[data-test=group-table] [data-test=group-name]").allInnerTexts());
    h.check(JSON.stringify(months) === JSON.stringify(api.groups.map((g) => g.key)), "its rows are the API's months of the cohort", months);
    // A month's cohort drills down to the cases registered in it.
    const g = api.groups.find((x) => figureOf(x.figures, "cases") > 0);
    const mrow = page.locator("[data-test=group-table] .el-table__body-wrapper tbody tr", { hasText: g.key });
    await drillsDown(h, page, () => mrow.locator("[data-test=cell-cases]").click(), figureOf(g.figures, "cases"), `the cohort ${g.key}`);
    await h.shot(page, "dashboard-filtered");

    // 导出: the CSV is the API's of the same filter and grouping; the Excel
    // workbooks are the service's (their own tests check their cells).
    const save = async (item) => {
      await page.locator("[data-test=export-menu]").click();
      const [file] = await Promise.all([page.waitForEvent("download"), page.locator(`.el-dropdown-menu [data-test=${item}]:visible`).click()]);
      const fs = await import("node:fs/promises");
      return { name: file.suggestedFilename(), body: await fs.readFile(await file.path()) };
    };
    const csv = await save("export-csv");
    const q = new URLSearchParams({ filter, groupBy: "STATISTICS_GROUPING_CREATE_MONTH" });
    const r = await fetch(`${h.base}/v1/caseStatistics.csv?${q}`, { headers: { Authorization: `Bearer ${await h.token("demo-supervisor")}` } });
    const apiCsv = await r.text();
    const text = csv.body.toString("utf8");
    h.check(csv.name.endsWith(".csv") && csv.name.startsWith("案件统计"), "the CSV is saved under the service's name", csv.name);
    h.check(text.replace(/^\uFEFF/, "") === apiCsv.replace(/^\uFEFF/, "") && text.includes("合计"), "the exported CSV is the API's for the same filter and grouping", text.slice(0, 200));
    const isZip = (b) => b.length > 1000 && b[0] === 0x50 && b[1] === 0x4b;
    const xlsx = await save("export-xlsx");
    h.check(xlsx.name.startsWith("案件统计") && xlsx.name.endsWith(".xlsx") && isZip(xlsx.body), "统计 Excel saves the service's workbook", xlsx.name);
    const list = await save("export-cases");
    h.check(list.name.startsWith("案件清单") && list.name.endsWith(".xlsx") && isZip(list.body), "案件清单 Excel saves the service's workbook", list.name);
    const official = await save("export-official");
    h.check(official.name.includes("人民调解工作统计表") && official.name.includes("2025") && isZip(official.body),
      "the months 2025-01 to 2025-12 offer the official table of the year 2025", official.name);
    const audit = await h.as("demo-auditor", "GET", "/v1/auditEvents?pageSize=20");
    const routes = (audit.auditEvents ?? []).filter((e) => e.kind === "AUDIT_EVENT_KIND_EXPORT").map((e) => `${e.method} ${e.resource}`);
    h.check(["caseStatistics.xlsx", "cases.xlsx", "official.xlsx"].every((x) => routes.some((m) => m.includes(x) && m.includes("621002"))),
      "the service recorded the three Excel exports, each with the dashboard's filter", routes);

    // 案件列表's 导出 Excel: the cases of its filter.
    await page.goto(`${h.base}/cases?f=${encodeURIComponent(filter)}`);
    await page.locator("[data-test=total]").waitFor();
    const [cases] = await Promise.all([page.waitForEvent("download"), page.locator("[data-test=export-cases]").click()]);
    h.check(cases.suggestedFilename().startsWith("案件清单") && cases.suggestedFilename().endsWith(".xlsx"), "案件列表 exports its cases as Excel", cases.suggestedFilename());
  },

  // The dashboard reads its figures again without a reload.
  async "dashboard-refresh"(h) {
    const page = await h.page();
    await h.signIn(page, "demo-supervisor");
    await page.goto(h.base + "/dashboard?poll=1000&region=621002");
    await page.locator("[data-test=fig-total-cases]").waitFor();
    const filter = 'region_code = "621002"';
    let api = await statistics(h, filter);
    await h.eventually("the dashboard shows the API's count of 西峰区", async () => {
      const n = await shownNumber(page.locator("[data-test=fig-total-cases]"));
      return [n === figureOf(api.total, "cases"), n];
    });
    await page.evaluate(() => { window.__noReload = true; });
    await h.as("demo-lead", "POST", `/v1/cases?requestId=${randomUUID()}`, {
      disputeType: "DISPUTE_TYPE_NEIGHBOR", source: "CASE_SOURCE_WALK_IN", summary: "邻里纠纷：统计刷新测试", regionCode: "621002",
      parties: [{ id: "p1", name: "周丽", role: "PARTY_ROLE_APPLICANT" }, { id: "p2", name: "吴刚", role: "PARTY_ROLE_RESPONDENT" }],
    });
    const before = figureOf(api.total, "cases");
    api = await statistics(h, filter);
    h.check(figureOf(api.total, "cases") === before + 1, "the API counts the new case");
    await h.eventually("the dashboard shows the new count and the new 登记 without a reload", async () => {
      const n = await shownNumber(page.locator("[data-test=fig-total-cases]"));
      const open = await shownNumber(page.locator("[data-test=fig-total-open]"));
      return [n === figureOf(api.total, "cases") && open === figureOf(api.total, "open"), [n, open]];
    });
    h.check(await page.evaluate(() => window.__noReload === true), "the page was not reloaded");
  },

  // A client route that does not exist, and a deep link reloaded.
  async "routes"(h) {
    const page = await h.page();
    await h.signIn(page, "demo-supervisor");
    await page.goto(h.base + "/no/such/page");
    await page.getByText("页面不存在").waitFor();
    h.check(true, "an unknown client route shows 页面不存在");
    await h.shot(page, "not-found");
    await page.goto(h.base + "/cases?state=MEDIATING&overdue=1");
    await page.locator("[data-test=case-table]").waitFor();
    const filter = "state = MEDIATING AND overdue = true";
    const api = await h.as("demo-supervisor", "GET", "/v1/cases?pageSize=20&filter=" + encodeURIComponent(filter));
    const want = (api.cases ?? []).map((c) => c.caseNumber);
    await h.eventually("a bookmarked filter URL shows what the API gives for it", async () => {
      const rows = (await page.locator("[data-test=case-table] tbody tr").allInnerTexts()).map((t) => t.split(/\s/)[0]);
      return [rows.length === want.length && rows.every((r, i) => r === want[i]), rows];
    });
    const r = await fetch(h.base + "/cases?state=MEDIATING");
    h.check(r.status === 200 && r.headers.get("cache-control") === "no-cache" && (r.headers.get("content-security-policy") ?? "").includes("script-src 'self'"), "a deep link is served index.html, no-cache, with the CSP");
  },

  // The acceptance's budgets: the first page's JavaScript under 500 KB
  // gzipped (checked), and the sign-in page usable within 1 s from a cold
  // cache (measured and printed).
  async "first-load"(h) {
    // Three cold loads, each in a fresh context (empty cache): the best is
    // what the page costs; the others show what a loaded machine adds.
    const runs = [];
    let scripts = new Map();
    for (let i = 0; i < 3; i++) {
      const page = await h.page();
      const seen = new Map();
      page.on("response", (r) => {
        if (r.request().resourceType() === "script") seen.set(r.url(), r);
      });
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("Performance.enable");
      const start = Date.now();
      await page.goto(h.base + "/login");
      await page.locator("[data-test=login-submit]").waitFor();
      const ready = Date.now() - start;
      // The time the renderer's main thread was busy with the load: closer
      // to what the page costs than wall clock, which also counts waiting
      // for a CPU on a shared machine (busy time grows under load too, less).
      const { metrics } = await cdp.send("Performance.getMetrics");
      const metric = (name) => metrics.find((m) => m.name === name)?.value ?? 0;
      const task = Math.round(1000 * metric("TaskDuration"));
      const nav = await page.evaluate(() => {
        const n = performance.getEntriesByType("navigation")[0];
        return { domContentLoaded: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd) };
      });
      runs.push({ ready, task, ...nav });
      scripts = seen;
      if (i < 2) await page.context().close(); // the last one's bodies are read below
    }
    let raw = 0;
    let gz = 0;
    const encodings = [];
    for (const r of scripts.values()) {
      const body = await r.body();
      raw += body.length;
      gz += gzipSync(body, { level: 9 }).length;
      if (body.length >= 1024) encodings.push(r.headers()["content-encoding"] ?? "none");
    }
    const kb = (n) => (n / 1024).toFixed(1);
    const best = runs.reduce((a, b) => (b.ready < a.ready ? b : a));
    console.log(`first page: ${scripts.size} scripts, ${kb(raw)} KB, ${kb(gz)} KB gzipped; sign-in form ready after ${runs.map((r) => `${r.ready} ms (main thread ${r.task} ms, DOMContentLoaded ${r.domContentLoaded}, load ${r.load})`).join(", ")}`);
    h.check(scripts.size > 0 && gz < 500 * 1024, `the first page's JavaScript is ${kb(gz)} KB gzipped (${scripts.size} files), under 500 KB`);
    // The time is measured and printed (the README's figures come from
    // here), not asserted: on a 2-core machine shared with other test runs,
    // wall clock and even main-thread time swing by seconds, and a test
    // checks behaviour. Size and encoding, which decide the time on a quiet
    // machine, are checked above and below.
    h.check(encodings.length > 0 && encodings.every((e) => e === "gzip"), "its scripts (those over 1 KB) travel gzipped", encodings);
  },
};
