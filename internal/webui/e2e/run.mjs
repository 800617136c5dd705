// run.mjs: runs one browser scenario (node e2e/run.mjs NAME) or lists
// them (--list). The Go test e2e_test.go starts mediationd and calls this
// once per scenario with WEBUI_BASE (the service, loopback only) and
// WEBUI_OUT (the test output directory, for screenshots). The last line
// printed is the scenario's result as JSON.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium } from "playwright-core";
import { scenarios } from "./scenarios.mjs";
import { Harness } from "./harness.mjs";

const [arg] = process.argv.slice(2);
if (arg === "--list" || !arg) {
  console.log(Object.keys(scenarios).join("\n"));
  process.exit(0);
}
const scenario = scenarios[arg];
if (!scenario) {
  console.error(`no scenario ${arg}; there are: ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
const base = process.env.WEBUI_BASE ?? "";
const host = URL.canParse(base) ? new URL(base).hostname : "";
if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) {
  console.error(`WEBUI_BASE must be a loopback URL such as http://127.0.0.1:8080, not ${JSON.stringify(base)}`);
  process.exit(2);
}
const out = process.env.WEBUI_OUT ?? "test-output";
await mkdir(path.join(out, "screenshots"), { recursive: true });

// Debian's Chromium, with the flags that keep it from reaching the network
// (this machine has none) and from needing a sandbox or a GPU. Playwright
// gives it a fresh profile directory of its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const h = new Harness(browser, base, out, arg);
const start = Date.now();
let error = "";
try {
  await scenario(h);
} catch (e) {
  error = e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e);
  await h.failureShots();
} finally {
  await browser.close();
}
console.log(JSON.stringify({ scenario: arg, ok: !error, error, checks: h.checks, ms: Date.now() - start }));
process.exit(error ? 1 : 0);
