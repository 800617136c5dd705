import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors";
import { changed, patchOf, placeErrors, scopeFields, scopeOf } from "./admin";

describe("scopeFields", () => {
  it("names the scope each role needs", () => {
    expect(scopeFields("ROLE_SUPERVISOR")).toEqual(["regionCode"]);
    expect(scopeFields("ROLE_ORGANIZATION_LEAD")).toEqual(["organization"]);
    expect(scopeFields("ROLE_MEDIATOR")).toEqual(["organization", "mediator"]);
    expect(scopeFields("ROLE_COURT_DESK")).toEqual(["courtCode"]);
    expect(scopeFields("ROLE_ADMIN")).toEqual([]);
    expect(scopeFields("ROLE_AUDITOR")).toEqual([]);
  });
});

describe("scopeOf", () => {
  it("keeps the role's scope, trimmed, and empties the rest", () => {
    const draft = { regionCode: "621000", organization: "organizations/a", mediator: " mediators/m-1 ", courtCode: "甘1002" };
    expect(scopeOf("ROLE_MEDIATOR", draft)).toEqual({ regionCode: "", organization: "organizations/a", mediator: "mediators/m-1", courtCode: "" });
    expect(scopeOf("ROLE_SUPERVISOR", draft)).toEqual({ regionCode: "621000", organization: "", mediator: "", courtCode: "" });
    expect(scopeOf("ROLE_ADMIN", draft)).toEqual({ regionCode: "", organization: "", mediator: "", courtCode: "" });
  });
});

describe("changed and patchOf", () => {
  const before = { displayName: "甲调委会", phone: "", disputeTypes: ["A", "B"], courtRoster: false, days: 30, etag: "v7" };
  it("lists only what differs, with missing values equal to the API's defaults", () => {
    const after = { displayName: "甲调委会 ", phone: "", disputeTypes: ["B", "A"], courtRoster: false, days: 30, address: "" };
    expect(changed(before, after, ["displayName", "phone", "disputeTypes", "courtRoster", "days", "address"])).toEqual([]);
    expect(changed({ disputeTypes: undefined }, { disputeTypes: [] as string[] }, ["disputeTypes"])).toEqual([]);
  });
  it("puts the changed keys and the etag in the body", () => {
    const after = { displayName: "乙调委会", phone: "0934-1234567", disputeTypes: ["A"], courtRoster: true, days: 45 };
    expect(patchOf(before, after, ["displayName", "phone", "disputeTypes", "courtRoster", "days"])).toEqual({
      displayName: "乙调委会", phone: "0934-1234567", disputeTypes: ["A"], courtRoster: true, days: 45, etag: "v7",
    });
    expect(patchOf({ ...before, etag: undefined }, { ...before, courtRoster: false }, ["courtRoster"])).toEqual({});
  });
  it("sends a value turned off or cleared", () => {
    expect(patchOf({ courtRoster: true, phone: "123" }, { courtRoster: false, phone: "" }, ["courtRoster", "phone"])).toEqual({ courtRoster: false, phone: "" });
  });
});

describe("placeErrors", () => {
  it("puts field violations at the form's fields and the rest at the top", () => {
    const err = new ApiError({
      status: 400, code: "INVALID_ARGUMENT", message: "organization.region_code: must be the 6-digit code",
      violations: [
        { field: "organization.region_code", description: "must be the 6-digit code" },
        { field: "organization_id", description: "must be lower-case" },
        { field: "update_mask", description: "not a field" },
      ],
    });
    const out = placeErrors(err, ["organizationId", "regionCode"], ["organization."]);
    expect(out.regionCode).toBe("must be the 6-digit code");
    expect(out.organizationId).toBe("must be lower-case");
    expect(out._).toContain("填写有误");
  });
  it("shows a refusal without violations at the top only", () => {
    const err = new ApiError({ status: 409, code: "ALREADY_EXISTS", message: "organizations/x already exists" });
    expect(placeErrors(err, ["organizationId"], [])).toEqual({ _: "organizations/x already exists" });
  });
  it("takes any thrown value", () => {
    expect(placeErrors(new Error("boom"), [], [])._).toContain("boom");
  });
});
