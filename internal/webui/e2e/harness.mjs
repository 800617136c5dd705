// harness.mjs: what the scenarios share: pages in a fresh browser context
// (zh-CN, China time, only loopback requests), the API as a given user,
// checks that name what they saw, and screenshots at desktop and phone
// width.
import path from "node:path";

export const password = "qingyang-demo-2026";
export const desktop = { width: 1366, height: 768 };
export const phone = { width: 390, height: 844 };

export class Harness {
  constructor(browser, base, out, scenario) {
    this.browser = browser;
    this.base = base;
    this.out = out;
    this.scenario = scenario;
    this.checks = [];
    this.pages = [];
    this.tokens = new Map();
  }

  /** check records a check, or fails the scenario with what was seen. */
  check(ok, what, seen) {
    if (!ok) throw new Error(`check failed: ${what}${seen === undefined ? "" : `; saw ${JSON.stringify(seen)}`}`);
    this.checks.push(what);
  }

  /** eventually polls f (an async function returning [ok, seen]) for up to 10 s, then checks. */
  async eventually(what, f) {
    let ok = false;
    let seen;
    for (const end = Date.now() + 10000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
      [ok, seen] = await f();
      if (ok) break;
    }
    this.check(ok, what, seen);
  }

  /** page opens a page in a fresh context (its own sessionStorage). */
  async page(viewport = desktop) {
    const context = await this.browser.newContext({ viewport, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    // Nothing but the service under test: any other host is refused.
    await context.route("**/*", (route) => {
      const u = new URL(route.request().url());
      if (u.origin === this.base || u.protocol === "data:" || u.protocol === "about:") return route.continue();
      return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
    page.on("console", (m) => {
      // The refusals the scenarios provoke show as failed loads: not news.
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) console.log(`console error: ${m.text()}`);
    });
    this.pages.push(page);
    return page;
  }

  /** signIn opens the sign-in page and signs in through the form. */
  async signIn(page, username) {
    await page.goto(this.base + "/login");
    await page.getByLabel("用户名").fill(username);
    await page.getByLabel("密码", { exact: true }).fill(password);
    await page.locator("[data-test=login-submit]").click();
    await page.waitForURL((u) => !u.pathname.startsWith("/login"));
  }

  /** shot saves the page at desktop width and at phone width. */
  async shot(page, name) {
    const vp = page.viewportSize();
    await page.waitForLoadState("networkidle").catch(() => {});
    await page.waitForTimeout(400); // let transitions (tags, dialogs) finish
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(this.out, "screenshots", `${name}-1366.png`) });
    await page.setViewportSize(phone);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(this.out, "screenshots", `${name}-390.png`), fullPage: true });
    await page.setViewportSize(vp ?? desktop);
    await page.waitForTimeout(200);
  }

  /** failureShots keeps what each page showed when the scenario failed. */
  async failureShots() {
    let i = 0;
    for (const p of this.pages) {
      await p.screenshot({ path: path.join(this.out, "screenshots", `FAILED-${this.scenario}-${i++}.png`) }).catch(() => {});
    }
  }

  /** token signs a user in through the API, once. */
  async token(username) {
    if (!this.tokens.has(username)) {
      const r = await this.api("", "POST", "/v1/sessions", { username, password });
      this.tokens.set(username, r.token);
    }
    return this.tokens.get(username);
  }

  /** api calls the REST API (as a user's token, or none) and returns the JSON, throwing on a refusal. */
  async api(token, method, p, body) {
    const { status, json } = await this.raw(token, method, p, body);
    if (status >= 300) throw new Error(`${method} ${p}: ${status} ${JSON.stringify(json)}`);
    return json;
  }

  /** raw calls the API and returns status and JSON, refusals included. */
  async raw(token, method, p, body) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(this.base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: r.status, json, headers: r.headers };
  }

  /** as calls the API as a demo user. */
  async as(username, method, p, body) {
    return this.api(await this.token(username), method, p, body);
  }
}

/** dialog is the open Element Plus dialog with the given title. */
export function dialog(page, title) {
  return page.getByRole("dialog", { name: title });
}

/** choose opens an Element Plus select (by a locator) and clicks the option with the text. */
export async function choose(page, select, text) {
  await select.click();
  const option = page.locator(".el-select-dropdown__item:visible", { hasText: text }).first();
  await option.click();
}

/** tomorrowAt is an ISO-like "YYYY-MM-DD HH:mm" of tomorrow at hour:00 China time, as the picker takes it. */
export function tomorrowAt(hour) {
  const d = new Date(Date.now() + 8 * 3600_000 + 86400_000);
  return `${d.toISOString().slice(0, 10)} ${String(hour).padStart(2, "0")}:00`;
}
