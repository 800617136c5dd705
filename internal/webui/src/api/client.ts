// The typed client of the REST API. Its types are generated from the
// service's OpenAPI document (scripts/gen-api.mjs), so a change of the API
// that the UI does not follow fails the type check of the build.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./generated/schema";
import { ApiError, toApiError } from "./errors";

/** The API's message types, by their OpenAPI names (v1Case, v1Party, …). */
export type Schemas = components["schemas"];
export type Case = Schemas["v1Case"];
export type CaseState = Schemas["v1CaseState"];
export type Party = Schemas["v1Party"];
export type Role = Schemas["v1Role"];
export type Caller = Schemas["v1GetCallerResponse"];

/**
 * The token of the signed-in user, kept in this module (memory) and set
 * by the session store; every call carries it.
 */
let token = "";
let onUnauthenticated: () => void = () => {};

/** setToken sets the bearer token of later calls ("" for none). */
export function setToken(t: string): void {
  token = t;
}

/** whenUnauthenticated registers what to do when the service no longer accepts the token. */
export function whenUnauthenticated(f: () => void): void {
  onUnauthenticated = f;
}

/**
 * pathSerializer fills path templates such as /v1/{name}:accept with
 * resource names such as cases/1234: slashes stay (they are the resource
 * name's own), each segment is escaped.
 */
export function pathSerializer(pathname: string, params: Record<string, unknown>): string {
  return pathname.replace(/\{([^}]+)\}/g, (_m, key: string) => {
    const v = params[key];
    if (v === undefined || v === null || v === "") throw new Error(`missing path parameter ${key} for ${pathname}`);
    return String(v).split("/").map(encodeURIComponent).join("/");
  });
}

const auth: Middleware = {
  onRequest({ request }) {
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401 && token) onUnauthenticated();
    return response;
  },
};

/** The client; use it through call() to turn refusals into ApiError. */
export const api = createClient<paths>({
  baseUrl: "",
  pathSerializer,
  // Looked up at each call, not captured once, so tests may replace it.
  fetch: (request) => globalThis.fetch(request),
});
api.use(auth);

/**
 * call awaits an openapi-fetch call and returns its data, or throws the
 * refusal as an ApiError (the service's message, reason and field
 * violations). A network failure is an ApiError with status 0.
 */
export async function call<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let r: { data?: T; error?: unknown; response: Response };
  try {
    r = await p;
  } catch (e) {
    throw new ApiError({ status: 0, code: "UNAVAILABLE", message: e instanceof Error ? e.message : String(e) });
  }
  if (!r.response.ok) throw toApiError(r.response, r.error);
  return r.data as T;
}

/** The token's header, for the few calls made without the client (the agreement page). */
export function authHeaders(): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** newRequestId is a UUID for an action's requestId, so that a retry acts once. */
export function newRequestId(): string {
  // crypto.randomUUID is Chrome 92 and secure contexts only.
  const c = crypto as Crypto & { randomUUID?: () => string };
  if (typeof c.randomUUID === "function") return c.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
