// The case list's filters, kept in the URL's query so that a view can be
// bookmarked and shared, and compiled to the API's AIP-160 filter.

/** ListQuery is the case list's state as the URL holds it. */
export interface ListQuery {
  state: string;
  type: string;
  region: string;
  org: string;
  mediator: string;
  source: string;
  overdue: boolean;
  reassign: boolean;
  from: string;
  to: string;
  q: string;
  page: string;
  /**
   * A raw AIP-160 filter, as the dashboard's drill-down gives it (the
   * figure's definition), joined with the other fields by AND.
   */
  f: string;
  /** What the raw filter selects, in words (e.g. 西峰区 · 调解中). */
  t: string;
  /**
   * For a drill-down: the figure (fig) of GetCaseStatistics with the filter
   * sf that counts the raw filter's cases from the statistics' summaries.
   */
  sf: string;
  fig: string;
}

const keys: Array<keyof ListQuery> = ["state", "type", "region", "org", "mediator", "source", "overdue", "reassign", "from", "to", "q", "f", "t", "sf", "fig", "page"];

/** fromQuery reads the list's state from the route's query. */
export function fromQuery(q: Record<string, unknown>): ListQuery {
  const s = (k: string) => (typeof q[k] === "string" ? (q[k] as string) : "");
  return {
    state: s("state"), type: s("type"), region: s("region"), org: s("org"), mediator: s("mediator"), source: s("source"),
    overdue: s("overdue") === "1", reassign: s("reassign") === "1", from: s("from"), to: s("to"), q: s("q"), page: s("page"),
    f: s("f"), t: s("t"), sf: s("sf"), fig: s("fig"),
  };
}

/** toQuery writes the list's state into a query, leaving out what is empty. */
export function toQuery(l: ListQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = l[k];
    if (typeof v === "boolean") {
      if (v) out[k] = "1";
    } else if (v) out[k] = v;
  }
  return out;
}

/** quote makes a filter string literal. */
export function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

const enumRe = /^[A-Z][A-Z0-9_]*$/;
const dateRe = /^\d{4}-\d{2}-\d{2}$/;

/**
 * toFilter compiles the list's state to an AIP-160 filter. Dates are whole
 * days in China time; the search box matches the case number or the
 * court's case number exactly, as the API compares them. A raw filter is
 * sent as it is (the service checks it and says what is wrong), in
 * parentheses when other fields join it, since OR binds tighter than AND.
 */
export function toFilter(l: ListQuery): string {
  const parts: string[] = [];
  const raw = l.f.trim();
  if (raw) parts.push(raw);
  if (enumRe.test(l.state)) parts.push(`state = ${l.state}`);
  if (enumRe.test(l.type)) parts.push(`dispute_type = ${l.type}`);
  if (enumRe.test(l.source)) parts.push(`source = ${l.source}`);
  if (/^\d{6}$/.test(l.region)) parts.push(`region_code = ${quote(l.region)}`);
  if (l.org) parts.push(`organization = ${quote(l.org)}`);
  if (l.mediator) parts.push(`mediator = ${quote(l.mediator)}`);
  if (l.overdue) parts.push("overdue = true");
  if (l.reassign) parts.push("needs_reassignment = true");
  if (dateRe.test(l.from)) parts.push(`create_time >= ${quote(`${l.from}T00:00:00+08:00`)}`);
  if (dateRe.test(l.to)) {
    const next = new Date(Date.parse(`${l.to}T00:00:00+08:00`) + 86400000).toISOString();
    parts.push(`create_time < ${quote(next)}`);
  }
  const q = l.q.trim();
  if (q) parts.push(`(case_number = ${quote(q)} OR court_case_number = ${quote(q)} OR party_name = ${quote(q)})`);
  if (raw && parts.length > 1) parts[0] = `(${raw})`;
  return parts.join(" AND ");
}
