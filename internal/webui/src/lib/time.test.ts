import { describe, expect, it } from "vitest";
import { countdown, formatDateTime, urgency } from "./time";

const now = Date.parse("2026-12-06T04:00:00Z");
const inHours = (h: number) => new Date(now + h * 3600_000).toISOString();

describe("deadlines", () => {
  it("groups by urgency", () => {
    expect(urgency(inHours(-1), false, now)).toBe("overdue");
    expect(urgency(inHours(100), true, now)).toBe("overdue");
    expect(urgency(inHours(71), false, now)).toBe("soon");
    expect(urgency(inHours(73), false, now)).toBe("later");
    expect(urgency(undefined, false, now)).toBe("none");
  });
  it("counts down", () => {
    expect(countdown(inHours(50), now)).toBe("剩 2 天 2 小时");
    expect(countdown(inHours(48), now)).toBe("剩 2 天");
    expect(countdown(inHours(5), now)).toBe("剩 5 小时");
    expect(countdown(inHours(-73), now)).toBe("已逾期 3 天 1 小时");
    expect(countdown(undefined, now)).toBe("无期限");
  });
  it("shows China time", () => {
    expect(formatDateTime("2026-12-06T04:00:00Z")).toBe("2026-12-06 12:00");
    expect(formatDateTime("2026-12-06T17:30:00Z")).toBe("2026-12-07 01:30");
    expect(formatDateTime(undefined)).toBe("—");
  });
});
