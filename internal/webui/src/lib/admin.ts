// What the administrator's forms share: the body of an update (only the
// fields that changed, since over REST the service takes the body's keys
// as the update mask), the scope field each role needs, and the
// service's field violations placed at the form's fields.
import type { Schemas } from "../api/client";
import { ApiError, fieldErrors } from "../api/errors";

type Role = Schemas["v1Role"];

/** The scope fields of a user or API key. */
export type ScopeField = "regionCode" | "organization" | "mediator" | "courtCode";

/**
 * scopeFields are the scope fields a role needs: a region for a
 * supervisor, an organization for a lead, an organization and a mediator
 * for a mediator, a court code for a court desk, none otherwise.
 */
export function scopeFields(role: Role | ""): ScopeField[] {
  switch (role) {
    case "ROLE_SUPERVISOR":
      return ["regionCode"];
    case "ROLE_ORGANIZATION_LEAD":
      return ["organization"];
    case "ROLE_MEDIATOR":
      return ["organization", "mediator"];
    case "ROLE_COURT_DESK":
      return ["courtCode"];
    default:
      return [];
  }
}

/**
 * scopeOf keeps the scope fields the role needs (trimmed) and empties the
 * others, so that a change of role does not leave the old scope behind.
 */
export function scopeOf(role: Role | "", draft: Record<ScopeField, string>): Record<ScopeField, string> {
  const keep = scopeFields(role);
  const out = { regionCode: "", organization: "", mediator: "", courtCode: "" };
  for (const k of keep) out[k] = draft[k].trim();
  return out;
}

/**
 * changed lists the keys whose value differs between before and after:
 * strings trimmed, lists compared without regard to order, and a missing
 * value the same as "", false, 0 or [] (the API leaves defaults out).
 */
export function changed<T extends object>(before: Partial<T>, after: T, keys: Array<keyof T>): Array<keyof T> {
  return keys.filter((k) => !same(before[k], after[k]));
}

function norm(v: unknown): unknown {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v.trim();
  if (Array.isArray(v)) return JSON.stringify([...v].map(String).sort());
  if (v === false || v === 0) return "";
  return v;
}

function same(a: unknown, b: unknown): boolean {
  const x = norm(a);
  const y = norm(b);
  // An empty list and nothing are the same.
  return x === y || ((x === "" || x === "[]") && (y === "" || y === "[]"));
}

/** patchOf is the body of an update: the changed keys of after, with the etag. */
export function patchOf<T extends object>(before: Partial<T> & { etag?: string }, after: T, keys: Array<keyof T>): Partial<T> & { etag?: string } {
  const out: Partial<T> & { etag?: string } = {};
  for (const k of changed(before, after, keys)) out[k] = after[k];
  if (before.etag) out.etag = before.etag;
  return out;
}

/**
 * placeErrors puts a refusal's field violations at the form's fields (the
 * violation's path with a prefix such as "organization." removed,
 * camel-cased); what no field takes, or a refusal without violations,
 * goes under "_" as the message for the top of the form.
 */
export function placeErrors(e: unknown, fields: string[], prefixes: string[]): Record<string, string> {
  if (!(e instanceof ApiError)) return { _: e instanceof Error ? e.message : String(e) };
  const err = e;
  const { byField, rest } = fieldErrors(err, fields, prefixes);
  const out: Record<string, string> = { ...byField };
  if (rest.length || !err.violations.length) out._ = err.display;
  return out;
}
