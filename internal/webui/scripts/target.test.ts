import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module of the build scripts, without types
import { problems } from "./target.mjs";

describe("Chromium 87 check", () => {
  it("passes what Chromium 87 runs", () => {
    expect(problems("const a = b?.c ?? 1; let x = 0; x ||= 2; class K { #p = 1; static s = 2; m() { return this.#p } } export { a, K };")).toEqual([]);
    expect(problems("async function f() { for await (const x of y) await x; }")).toEqual([]);
  });
  it.each([
    ["class K { static { init(); } }", "static block"],
    ["class K { #p; has(o) { return #p in o; } }", "#field in obj"],
    ["const r = /a/d;", "RegExp flag"],
    ["await load();", "top-level await"],
    ["const last = list.at(-1);", "prototype.at"],
    ["if (Object.hasOwn(o, 'k')) {}", "Object.hasOwn"],
    ["const c = structuredClone(v);", "structuredClone"],
    ["const k = items.findLast((i) => i);", "findLast"],
    ["import data from './d.json' with { type: 'json' };", "import attributes"],
  ])("refuses %s", (code, what) => {
    const found: string[] = problems(code);
    expect(found.length).toBeGreaterThan(0);
    expect(found.join("\n")).toContain(what);
  });
  it("reports code that does not parse", () => {
    expect(problems("function (")[0]).toMatch(/does not parse/);
  });
});

describe("Chromium 87 check of forwarding methods", () => {
  it("lets a proxy define a method it only forwards", () => {
    expect(problems("const inst = { toSorted(e) { return raw(this).toSorted(e); } };")).toEqual([]);
  });
  it("still refuses a call of it", () => {
    expect(problems("const s = items.toSorted();").join()).toContain("change-array-by-copy");
  });
});
