// Dates and countdowns as mediators read them: 北京时间, 2026-12-06 14:30,
// "剩 3 天", "已逾期 2 天".

const tz = "Asia/Shanghai";

function parts(d: Date): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of new Intl.DateTimeFormat("zh-CN", {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(d)) out[p.type] = p.value;
  return out;
}

/** formatDateTime gives "2026-12-06 14:30" in China time, "—" for nothing. */
export function formatDateTime(iso: string | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** formatDate gives "2026-12-06" in China time. */
export function formatDate(iso: string | undefined): string {
  return formatDateTime(iso).slice(0, 10);
}

/** Urgency of a deadline, for grouping and colour. */
export type Urgency = "overdue" | "soon" | "later" | "none";

/** urgency: overdue, due within three days, later, or no deadline. */
export function urgency(dueTime: string | undefined, overdue: boolean | undefined, now: number = Date.now()): Urgency {
  if (overdue) return "overdue";
  if (!dueTime) return "none";
  const ms = new Date(dueTime).getTime() - now;
  if (ms < 0) return "overdue";
  if (ms <= 3 * 24 * 3600 * 1000) return "soon";
  return "later";
}

/** countdown says how long until (or since) a due time: "剩 2 天 5 小时", "已逾期 3 天". */
export function countdown(dueTime: string | undefined, now: number = Date.now()): string {
  if (!dueTime) return "无期限";
  const ms = new Date(dueTime).getTime() - now;
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86400000);
  const hours = Math.floor((abs % 86400000) / 3600000);
  const minutes = Math.floor((abs % 3600000) / 60000);
  const span = days > 0 ? `${days} 天${hours ? ` ${hours} 小时` : ""}` : hours > 0 ? `${hours} 小时` : `${Math.max(1, minutes)} 分钟`;
  return ms < 0 ? `已逾期 ${span}` : `剩 ${span}`;
}

/** dayKey is the China-time calendar day of an instant, "2026-12-06". */
export function dayKey(t: number | string): string {
  return formatDate(new Date(t).toISOString());
}

/** toRFC3339 turns a local date-time picker's value into the API's timestamp. */
export function toRFC3339(d: Date): string {
  return d.toISOString();
}
