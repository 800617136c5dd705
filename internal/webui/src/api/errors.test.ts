import { describe, expect, it } from "vitest";
import { ApiError, fieldErrors, parseRetryAfter, toApiError, waitText } from "./errors";

function response(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

describe("toApiError", () => {
  it("reads a stale etag's reason", () => {
    const e = toApiError(response(409), {
      code: 10,
      message: "case cases/x changed since etag v3 (now v4): read it again",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "CONCURRENT_CHANGE", domain: "mediationd.dev" }],
    });
    expect(e.code).toBe("ABORTED");
    expect(e.reason).toBe("CONCURRENT_CHANGE");
    expect(e.concurrentChange).toBe(true);
    expect(e.display).toContain("案件已被他人修改");
    expect(e.display).toContain("read it again");
  });

  it("tells a state refusal from a stale etag", () => {
    const e = toApiError(response(409), {
      code: 9,
      message: "action close is not allowed in state MEDIATING",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "ACTION_NOT_ALLOWED" }],
    });
    expect(e.concurrentChange).toBe(false);
    expect(e.display).toContain("不允许");
  });

  it("collects field violations", () => {
    const e = toApiError(response(400), {
      code: 3,
      message: "invalid request",
      details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [
        { field: "case.parties[0].id_number", description: "check digit is wrong" },
        { field: "case.summary", description: "must not be empty" },
      ] }],
    });
    expect(e.violations).toHaveLength(2);
    const { byField, rest } = fieldErrors(e, ["summary", "parties[0].idNumber"], ["case."]);
    expect(byField).toEqual({ "parties[0].idNumber": "check digit is wrong", summary: "must not be empty" });
    expect(rest).toEqual([]);
  });

  it("keeps violations no field takes", () => {
    const e = toApiError(response(400), { code: 3, message: "bad", details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field: "etag", description: "malformed" }] }] });
    const { byField, rest } = fieldErrors(e, ["reason"]);
    expect(byField).toEqual({});
    expect(rest).toEqual([{ field: "etag", description: "malformed" }]);
  });

  it("says how long to wait when throttled", () => {
    const e = toApiError(response(429, { "Retry-After": "900" }), { code: 8, message: "too many failed sign-ins" });
    expect(e.retryAfter).toBe(900);
    expect(e.display).toBe("操作太频繁，请稍后再试（15 分钟后）");
    expect(toApiError(response(429), {}).display).toBe("操作太频繁，请稍后再试");
  });

  it("copes with a body that is not a status", () => {
    const e = toApiError(new Response(null, { status: 502, statusText: "Bad Gateway" }), "upstream down");
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(502);
    expect(e.display).toBe("upstream down");
  });
});

describe("Retry-After", () => {
  it("takes seconds and dates", () => {
    expect(parseRetryAfter("30")).toBe(30);
    expect(parseRetryAfter(new Date(1_000_000 + 120_000).toUTCString(), 1_000_000)).toBe(120);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
  it("says the wait in words", () => {
    expect(waitText(0.2)).toBe("1 秒");
    expect(waitText(45)).toBe("45 秒");
    expect(waitText(61)).toBe("2 分钟");
  });
});
