import { describe, expect, it } from "vitest";
import { checkPhone, checkResidentID, checkUSCC } from "./identity";

const now = new Date("2026-12-06T00:00:00Z");

describe("resident ID (GB 11643)", () => {
  it("accepts valid numbers, lower-case x included", () => {
    expect(checkResidentID("621002195005010024", now)).toBe("");
    expect(checkResidentID("11010519491231002x", now)).toBe("");
  });
  it.each([
    ["62100219500501002", "18 位"],
    ["6210021950050100２4", "前 17 位"],
    ["991002195005010024", "省级"],
    ["621002195002300024", "不是有效日期"],
    ["621002185005010024", "1900"],
    ["621002203005010024", "未来"],
    ["621002195005010025", "校验码应为 4"],
    ["621002195005010204", "校验码"],
  ])("refuses %s", (id, why) => {
    expect(checkResidentID(id, now)).toContain(why);
  });
});

describe("unified social credit code (GB 32100)", () => {
  it("accepts a valid code", () => {
    expect(checkUSCC("91350100M000100Y43")).toBe("");
  });
  it("refuses mistakes", () => {
    expect(checkUSCC("91350100M000100Y44")).toContain("校验码应为 3");
    expect(checkUSCC("91350100M0001O0Y43")).toContain("字母 O");
    expect(checkUSCC("91350100m000100Y43")).toContain("小写");
    expect(checkUSCC("91350100M000100Y4")).toContain("18 位");
  });
});

describe("phone numbers", () => {
  it.each(["13909341234", "139 0934 1234", "+8613909341234", "8613909341234", "0934-8621234", "09348621234", "010-62345678", "0934-8621234-123"])("accepts %s", (p) => {
    expect(checkPhone(p)).toBe("");
  });
  it.each([
    ["1390934123", "11 位"],
    ["12909341234", "13 至 19"],
    ["+4413909341234", "+86"],
    ["0934-1621234", "不能以 1 开头"],
    ["011-12345678", "不存在"],
    ["0934-862123", "7 或 8 位"],
    ["23456789", "区号"],
    ["1390934123４", "半角"],
    ["", "请填写"],
  ])("refuses %s", (p, why) => {
    expect(checkPhone(p)).toContain(why);
  });
});
