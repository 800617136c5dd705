import { afterEach, describe, expect, it, vi } from "vitest";
import { createPinia, setActivePinia } from "pinia";
import { useSession } from "./session";

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

// The key session.ts saves the tab's session under.
const storageKey = "mediationd.session";

const caller = { user: { name: "users/demo-supervisor", displayName: "司法局" }, role: "ROLE_SUPERVISOR" };

function saveSession(): void {
  const expireTime = new Date(Date.now() + 3600_000).toISOString();
  sessionStorage.setItem(storageKey, JSON.stringify({ token: "t0", expireTime, displayName: "司法局", username: "demo-supervisor" }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe("session.restore", () => {
  it("keeps the session through calls cut short and signs in once the service answers", async () => {
    saveSession();
    let calls = 0;
    vi.stubGlobal("fetch", vi.fn(async () => {
      calls++;
      if (calls < 3) throw new TypeError("Failed to fetch");
      return jsonResponse(200, caller);
    }));
    setActivePinia(createPinia());
    const s = useSession();
    expect(await s.restore()).toBe(true);
    expect(calls).toBe(3);
    expect(s.signedIn).toBe(true);
  });

  it("keeps the saved session for the next load when the service stays unreachable", async () => {
    saveSession();
    vi.stubGlobal("fetch", vi.fn(async () => jsonResponse(503, { code: 14, message: "the database is unavailable; retry with backoff" })));
    setActivePinia(createPinia());
    const s = useSession();
    expect(await s.restore()).toBe(false);
    expect(s.signedIn).toBe(false);
    expect(sessionStorage.getItem(storageKey)).toContain("t0");
  });

  it("forgets the session the service no longer accepts", async () => {
    saveSession();
    vi.stubGlobal("fetch", vi.fn(async () => jsonResponse(401, { code: 16, message: "sign in first" })));
    setActivePinia(createPinia());
    const s = useSession();
    expect(await s.restore()).toBe(false);
    expect(sessionStorage.getItem(storageKey)).toBeNull();
  });
});
