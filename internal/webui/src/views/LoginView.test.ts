import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { createMemoryHistory, createRouter } from "vue-router";
import LoginView from "./LoginView.vue";

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

async function mountLogin() {
  setActivePinia(createPinia());
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: "/login", component: LoginView },
      { path: "/todo", name: "todo", component: { template: "<div>todo</div>" } },
      { path: "/:rest(.*)*", component: { template: "<div>other</div>" } },
    ],
  });
  await router.push("/login");
  const wrapper = mount(LoginView, { global: { plugins: [router] } });
  return { wrapper, router };
}

async function submit(wrapper: Awaited<ReturnType<typeof mountLogin>>["wrapper"], username: string, password: string) {
  await wrapper.find("input[name=username]").setValue(username);
  await wrapper.find("input[name=password]").setValue(password);
  await wrapper.find("form").trigger("submit");
  await flushPromises();
}

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe("LoginView", () => {
  it("shows the service's refusal of a wrong password and clears the password", async () => {
    const fetch = vi.fn(async () => jsonResponse(401, { code: 16, message: "wrong username or password", details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "WRONG_CREDENTIALS" }] }));
    vi.stubGlobal("fetch", fetch);
    const { wrapper } = await mountLogin();
    await submit(wrapper, "demo-mediator", "nope");
    expect(fetch).toHaveBeenCalledOnce();
    expect(wrapper.find("[data-test=login-error]").text()).toContain("用户名或密码不正确");
    expect((wrapper.find("input[name=password]").element as HTMLInputElement).value).toBe("");
  });

  it("says to try later, with the wait, when sign-ins are throttled", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => jsonResponse(429, { code: 8, message: "too many failed sign-ins" }, { "Retry-After": "600" })));
    const { wrapper } = await mountLogin();
    await submit(wrapper, "demo-mediator", "nope");
    expect(wrapper.find("[data-test=login-error]").text()).toContain("稍后再试（10 分钟后）");
  });

  it("asks for both fields before calling the service", async () => {
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    const { wrapper } = await mountLogin();
    await submit(wrapper, "", "");
    expect(fetch).not.toHaveBeenCalled();
    expect(wrapper.find("[data-test=login-error]").text()).toContain("请填写用户名和密码");
  });

  it("signs in, keeps the token for this tab only, and goes to the role's home", async () => {
    const fetch = vi.fn(async (req: Request) => {
      if (req.url.endsWith("/v1/sessions")) {
        expect(await req.json()).toEqual({ username: "demo-mediator", password: "secret" });
        return jsonResponse(200, { token: "mds_t", expireTime: "2099-01-01T00:00:00Z", user: { displayName: "路玉梅" } });
      }
      expect(req.headers.get("Authorization")).toBe("Bearer mds_t");
      return jsonResponse(200, { principal: "users/demo-mediator", role: "ROLE_MEDIATOR", methods: [] });
    });
    vi.stubGlobal("fetch", fetch);
    const { wrapper, router } = await mountLogin();
    await submit(wrapper, "demo-mediator", "secret");
    expect(router.currentRoute.value.path).toBe("/todo");
    expect(JSON.parse(sessionStorage.getItem("mediationd.session") ?? "{}").token).toBe("mds_t");
    expect(document.cookie).toBe("");
  });
});

describe("LoginView's redirect", () => {
  it("goes back to the page the user came from, but never to another site", async () => {
    const ok = () => jsonResponse(200, { token: "mds_t", expireTime: "2099-01-01T00:00:00Z", user: { displayName: "x" } });
    vi.stubGlobal("fetch", vi.fn(async (req: Request) => (req.url.endsWith("/v1/sessions") ? ok() : jsonResponse(200, { role: "ROLE_MEDIATOR", methods: [] }))));
    for (const [redirect, want] of [["/cases?state=MEDIATING", "/cases"], ["//evil.example/x", "/todo"], ["https://evil.example/", "/todo"]] as const) {
      const { wrapper, router } = await mountLogin();
      await router.replace({ path: "/login", query: { redirect } });
      await submit(wrapper, "demo-mediator", "secret");
      expect(router.currentRoute.value.path).toBe(want);
      sessionStorage.clear();
    }
  });
});
