// The signed-in user: the only state kept in a store. The token lives in
// memory (api/client.ts) and in sessionStorage, so that a reload of the tab
// keeps the user signed in while another tab, a closed browser or another
// site's page never sees it: sessionStorage is per tab and per origin, and
// is never sent with requests (unlike a cookie, so no CSRF either). The
// strict Content-Security-Policy keeps foreign script out of our origin.
import { defineStore } from "pinia";
import { api, call, setToken, type Caller, type Role } from "../api/client";
import { ApiError } from "../api/errors";

const storageKey = "mediationd.session";

interface Saved {
  token: string;
  expireTime: string;
  displayName: string;
  username: string;
}

export const useSession = defineStore("session", {
  state: () => ({
    token: "",
    expireTime: "",
    displayName: "",
    username: "",
    caller: null as Caller | null,
  }),
  getters: {
    signedIn: (s) => s.token !== "",
    role: (s): Role | undefined => s.caller?.role,
    /** The gRPC methods the caller may call, e.g. mediation.v1.CaseService/AcceptCase. */
    methods: (s): Set<string> => new Set((s.caller?.methods ?? []).map((m) => m.replace(/^\//, ""))),
  },
  actions: {
    /** may reports whether the caller's role may call a method (CaseService/AcceptCase, with or without package). */
    may(method: string): boolean {
      const m = method.includes(".") ? method : `mediation.v1.${method}`;
      return this.methods.has(m.replace(/^\//, ""));
    },
    /** signIn creates a session; a refusal is thrown as ApiError. */
    async signIn(username: string, password: string): Promise<void> {
      const r = await call(api.POST("/v1/sessions", { body: { username, password } }));
      this.token = r.token ?? "";
      this.expireTime = r.expireTime ?? "";
      this.displayName = r.user?.displayName || username;
      this.username = username;
      setToken(this.token);
      this.save();
      await this.loadCaller();
    },
    /** restore picks up the session of this tab after a reload. */
    async restore(): Promise<boolean> {
      if (this.token) return true;
      let saved: Saved | null = null;
      try {
        saved = JSON.parse(sessionStorage.getItem(storageKey) ?? "null") as Saved | null;
      } catch {
        saved = null;
      }
      if (!saved?.token || (saved.expireTime && Date.parse(saved.expireTime) < Date.now())) {
        this.clear();
        return false;
      }
      Object.assign(this, saved);
      setToken(saved.token);
      // Only the service's 401 ends the session. A call cut short (the
      // tab reloading again while it runs), a throttled or unavailable
      // service: try again, and if it still fails keep the saved session
      // for the next load rather than sign the user out.
      for (let attempt = 0; ; attempt++) {
        try {
          await this.loadCaller();
          return true;
        } catch (e) {
          if (e instanceof ApiError && e.status === 401) {
            this.clear();
            return false;
          }
          if (attempt >= 2) {
            this.token = "";
            this.caller = null;
            setToken("");
            return false;
          }
          await new Promise((resolve) => setTimeout(resolve, 300 * (attempt + 1)));
        }
      }
    },
    async loadCaller(): Promise<void> {
      this.caller = await call(api.GET("/v1/caller"));
    },
    /** signOut revokes the session on the service, then forgets it here. */
    async signOut(): Promise<void> {
      if (this.token) {
        try {
          await call(api.DELETE("/v1/sessions/current"));
        } catch {
          // Already expired or revoked: forgetting it is all that is left.
        }
      }
      this.clear();
    },
    clear(): void {
      this.token = "";
      this.expireTime = "";
      this.displayName = "";
      this.username = "";
      this.caller = null;
      setToken("");
      sessionStorage.removeItem(storageKey);
    },
    save(): void {
      const s: Saved = { token: this.token, expireTime: this.expireTime, displayName: this.displayName, username: this.username };
      sessionStorage.setItem(storageKey, JSON.stringify(s));
    },
  },
});
