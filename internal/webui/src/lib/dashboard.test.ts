import { describe, expect, it } from "vitest";
import {
  count, countedFigure, dashConditions, officialPeriod, drillFilter, figureConditions, fromDashQuery, groupConditions, nextMonth, percent, toDashQuery,
  type Figure,
} from "./dashboard";

const regions = [
  { code: "620000" },
  { code: "621000", parent: "regions/620000" },
  { code: "621002", parent: "regions/621000" },
  { code: "621021", parent: "regions/621000" },
  { code: "620100", parent: "regions/620000" },
];

describe("dashboard state in the URL", () => {
  it("round-trips, leaving out what is empty and the default tab", () => {
    const q = { region: "621002", from: "2025-01", to: "2025-06", type: "MARRIAGE_FAMILY", source: "POLICE", org: "organizations/xifeng-women-studio", tab: "mediator" };
    expect(toDashQuery(fromDashQuery(q))).toEqual(q);
    expect(toDashQuery(fromDashQuery({ tab: "region" }))).toEqual({});
  });

  it("falls back to the region tab for an unknown one", () => {
    expect(fromDashQuery({ tab: "drop table" }).tab).toBe("region");
  });

  it("compiles its filters, a month range as an intake cohort in China time", () => {
    const d = fromDashQuery({ region: "621002", from: "2025-01", to: "2025-12", type: "MARRIAGE_FAMILY", source: "POLICE", org: "organizations/x-1" });
    expect(dashConditions(d)).toEqual([
      'region_code = "621002"',
      'create_time >= "2025-01-01T00:00:00+08:00"',
      'create_time < "2026-01-01T00:00:00+08:00"',
      "dispute_type = MARRIAGE_FAMILY",
      "source = POLICE",
      'organization = "organizations/x-1"',
    ]);
  });

  it("leaves out values no control gives", () => {
    const d = fromDashQuery({ region: "62100", from: "2025-13", to: "2025-1", type: "X OR 1", source: "a b", org: 'organizations/x" OR' });
    expect(dashConditions(d)).toEqual([]);
  });

  it("counts months across a year's end", () => {
    expect(nextMonth("2025-12")).toBe("2026-01");
    expect(nextMonth("2026-09")).toBe("2026-10");
    expect(() => nextMonth("2026-13")).toThrow();
  });
});

describe("figure → ListCases filter", () => {
  // Each figure of CaseFigures as its definition in the proto says.
  const cases: Array<[Figure, string[] | null]> = [
    ["cases", []],
    ["open", ["state != CLOSED"]],
    ["state:CASE_STATE_MEDIATING", ["state = MEDIATING"]],
    ["state:CASE_STATE_INTAKE", ["state = INTAKE"]],
    ["overdue", ["overdue = true", "(state = ACCEPTED OR state = ASSIGNED OR state = MEDIATING)"]],
    ["needsReassignment", ["needs_reassignment = true"]],
    ["accepted", ['accept_time >= "1970-01-01T00:00:00Z"']],
    ["succeeded", ['accept_time >= "1970-01-01T00:00:00Z"', "(state = AGREED OR outcome = AGREEMENT)"]],
    ["failed", ["outcome = FAILED"]],
    ["withdrawnAfterAcceptance", ["outcome = WITHDRAWN", 'accept_time >= "1970-01-01T00:00:00Z"']],
    ["withdrawnBeforeAcceptance", ["outcome = WITHDRAWN", 'NOT accept_time >= "1970-01-01T00:00:00Z"']],
    ["rejected", ["outcome = REJECTED"]],
    ["concluded", ['((accept_time >= "1970-01-01T00:00:00Z" AND (state = AGREED OR outcome = AGREEMENT OR outcome = WITHDRAWN)) OR outcome = FAILED)']],
    ["performed", ["performance_status = PERFORMED"]],
    ["partlyPerformed", ["performance_status = PARTLY_PERFORMED"]],
    ["notPerformed", ["performance_status = NOT_PERFORMED"]],
    ["groupDisputes", ["group_dispute = true"]],
    ["escalationRisks", ["escalation_risk = true"]],
    ["courtReferrals", ["(source = COURT_DELEGATED OR source = COURT_ENTRUSTED)"]],
    // No ListCases field says anything of judicial confirmation.
    ["confirmationRequested", null],
    ["confirmationConfirmed", null],
    ["confirmationRefused", null],
  ];
  it.each(cases)("%s", (figure, want) => {
    expect(figureConditions(figure)).toEqual(want);
  });
});

describe("group → ListCases filter", () => {
  it("a county is its code", () => {
    expect(groupConditions("region", "621002", regions)).toEqual(['region_code = "621002"']);
  });

  it("a city's own cases leave out the regions below it, which region_code would include", () => {
    expect(groupConditions("region", "621000", regions)).toEqual(['region_code = "621000"', 'NOT region_code = "621002"', 'NOT region_code = "621021"']);
    expect(groupConditions("region", "620000", regions)).toEqual(['region_code = "620000"', 'NOT region_code = "620100"', 'NOT region_code = "621000"']);
  });

  it("a city the directory does not list cannot be told from the counties below it", () => {
    expect(groupConditions("region", "622900", regions)).toBeNull();
    expect(groupConditions("region", "621000", [])).toBeNull();
  });

  it("organizations, mediators, types, sources and months", () => {
    expect(groupConditions("organization", "organizations/xifeng-women-studio")).toEqual(['organization = "organizations/xifeng-women-studio"']);
    expect(groupConditions("mediator", "mediators/m-003")).toEqual(['mediator = "mediators/m-003"']);
    expect(groupConditions("dispute_type", "DISPUTE_TYPE_MARRIAGE_FAMILY")).toEqual(["dispute_type = MARRIAGE_FAMILY"]);
    expect(groupConditions("source", "CASE_SOURCE_HOTLINE_12348")).toEqual(["source = HOTLINE_12348"]);
    expect(groupConditions("create_month", "2025-12")).toEqual(['create_time >= "2025-12-01T00:00:00+08:00"', 'create_time < "2026-01-01T00:00:00+08:00"']);
  });

  it("未分派 (no organization or mediator) cannot be asked for", () => {
    expect(groupConditions("organization", "")).toBeNull();
    expect(groupConditions("mediator", undefined)).toBeNull();
  });
});

describe("drillFilter", () => {
  const base = dashConditions(fromDashQuery({ from: "2025-01", to: "2025-01", type: "NEIGHBOR" }));

  it("joins the dashboard's, the group's and the figure's conditions", () => {
    expect(drillFilter(base, groupConditions("region", "621002", regions), "state:CASE_STATE_MEDIATING")).toBe(
      'create_time >= "2025-01-01T00:00:00+08:00" AND create_time < "2025-02-01T00:00:00+08:00" AND dispute_type = NEIGHBOR' +
        ' AND region_code = "621002" AND state = MEDIATING',
    );
  });

  it("keeps a figure's OR inside its parentheses (OR binds tighter than AND)", () => {
    expect(drillFilter([], [], "succeeded")).toBe('accept_time >= "1970-01-01T00:00:00Z" AND (state = AGREED OR outcome = AGREEMENT)');
  });

  it("the totals' case count is the dashboard's filter alone", () => {
    expect(drillFilter([], [], "cases")).toBe("");
    expect(drillFilter(base, [], "cases")).toBe(base.join(" AND "));
  });

  it("is null when the group or the figure has no filter", () => {
    expect(drillFilter(base, null, "open")).toBeNull();
    expect(drillFilter(base, [], "confirmationRequested")).toBeNull();
  });
});

describe("reading figures", () => {
  const f = { cases: "3000", open: "96", states: [{ state: "CASE_STATE_MEDIATING" as const, count: "30" }], successRate: 0.9157127991675338 };
  it("reads int64 strings, states, and zeros the JSON leaves out", () => {
    expect(count(f, "cases")).toBe(3000);
    expect(count(f, "state:CASE_STATE_MEDIATING")).toBe(30);
    expect(count(f, "state:CASE_STATE_INTAKE")).toBe(0);
    expect(count(f, "needsReassignment")).toBe(0);
    expect(count(undefined, "cases")).toBe(0);
  });
  it("formats a rate, or — without a denominator", () => {
    expect(percent(f.successRate, 2883)).toBe("91.6%");
    expect(percent(undefined, 0)).toBe("—");
  });
});

describe("countedFigure", () => {
  const sf = 'region_code = "621002" AND dispute_type = NEIGHBOR';
  it("counts a drill-down's cases by its figure when the filter is the figure's", () => {
    const f = drillFilter([sf], [], "succeeded") as string;
    expect(countedFigure(f, sf, "succeeded")).toBe("succeeded");
    expect(countedFigure("state = MEDIATING", "", "state:CASE_STATE_MEDIATING")).toBe("state:CASE_STATE_MEDIATING");
  });
  it("refuses a filter edited by hand, an unknown figure, or one no filter expresses", () => {
    expect(countedFigure('region_code = "621002" AND state = CLOSED', 'region_code = "621002"', "open")).toBeNull();
    expect(countedFigure("state != CLOSED", "", "cases")).toBeNull();
    expect(countedFigure("", "", "toString")).toBeNull();
    expect(countedFigure("", "", "confirmationRequested")).toBeNull();
  });
});

describe("officialPeriod", () => {
  it("is a month, a quarter or a year of registration", () => {
    expect(officialPeriod("2026-03", "2026-03")).toBe("2026-03");
    expect(officialPeriod("2026-01", "2026-03")).toBe("2026-Q1");
    expect(officialPeriod("2026-10", "2026-12")).toBe("2026-Q4");
    expect(officialPeriod("2026-01", "2026-12")).toBe("2026");
  });
  it("is null for any other range", () => {
    expect(officialPeriod("2026-02", "2026-04")).toBeNull();
    expect(officialPeriod("2025-12", "2026-02")).toBeNull();
    expect(officialPeriod("2026-01", "2026-06")).toBeNull();
    expect(officialPeriod("", "")).toBeNull();
  });
});
