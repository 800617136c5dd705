import { describe, expect, it } from "vitest";
import { fromQuery, toFilter, toQuery } from "./filter";

describe("case list filters", () => {
  it("round-trips through the URL, leaving out what is empty", () => {
    const q = { state: "MEDIATING", overdue: "1", org: "organizations/xifeng-women-studio", q: "西峰调〔2026〕00123号" };
    const l = fromQuery(q);
    expect(l.overdue).toBe(true);
    expect(l.reassign).toBe(false);
    expect(toQuery(l)).toEqual(q);
  });

  it("compiles to the API's filter", () => {
    const l = fromQuery({ state: "MEDIATING", type: "DISPUTE_TYPE_MARRIAGE_FAMILY".replace("DISPUTE_TYPE_", ""), region: "621002", overdue: "1", reassign: "1", from: "2026-01-01", to: "2026-01-31" });
    expect(toFilter(l)).toBe(
      'state = MEDIATING AND dispute_type = MARRIAGE_FAMILY AND region_code = "621002" AND overdue = true AND needs_reassignment = true' +
        ' AND create_time >= "2026-01-01T00:00:00+08:00" AND create_time < "2026-01-31T16:00:00.000Z"',
    );
  });

  it("quotes what the user typed and ignores what is not a value", () => {
    const l = fromQuery({ q: 'x" OR state = CLOSED', state: "MEDIATING OR 1=1", region: "62100" });
    expect(toFilter(l)).toBe(
      '(case_number = "x\\" OR state = CLOSED" OR court_case_number = "x\\" OR state = CLOSED" OR party_name = "x\\" OR state = CLOSED")',
    );
  });

  it("keeps a raw filter and its title in the URL", () => {
    const q = { f: 'region_code = "621002" AND state = MEDIATING', t: "西峰区 · 调解中" };
    expect(toQuery(fromQuery(q))).toEqual(q);
  });

  it("sends a raw filter as it is, in parentheses when other fields join it", () => {
    const f = 'accept_time >= "1970-01-01T00:00:00Z" AND (state = AGREED OR outcome = AGREEMENT)';
    expect(toFilter(fromQuery({ f }))).toBe(f);
    expect(toFilter(fromQuery({ f: "overdue = true OR needs_reassignment = true", state: "MEDIATING" }))).toBe(
      "(overdue = true OR needs_reassignment = true) AND state = MEDIATING",
    );
  });

  it("is empty without filters", () => {
    expect(toFilter(fromQuery({}))).toBe("");
  });
});
