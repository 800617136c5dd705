// The service's refusals, read from its google.rpc.Status bodies: the gRPC
// code, the message (which says what to fix), ErrorInfo's stable reason and
// BadRequest's field violations, plus Retry-After on 429.

/** A field violation of google.rpc.BadRequest: the field's path and what is wrong. */
export interface FieldViolation {
  field: string;
  description: string;
}

/** ApiError is a refusal or failure of an API call, as the UI shows it. */
export class ApiError extends Error {
  /** The HTTP status; 0 when the service could not be reached. */
  readonly status: number;
  /** The gRPC code name, e.g. "ABORTED"; "" when unknown. */
  readonly code: string;
  /** ErrorInfo.reason, e.g. "CONCURRENT_CHANGE"; "" when none. */
  readonly reason: string;
  /** BadRequest's field violations, in the order the service gave them. */
  readonly violations: FieldViolation[];
  /** Seconds to wait before retrying (Retry-After), when the service said. */
  readonly retryAfter: number | undefined;

  constructor(init: { status: number; code: string; message: string; reason?: string; violations?: FieldViolation[]; retryAfter?: number }) {
    super(init.message);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.reason = init.reason ?? "";
    this.violations = init.violations ?? [];
    this.retryAfter = init.retryAfter;
  }

  /** Whether someone else changed the case since it was read (a stale etag). */
  get concurrentChange(): boolean {
    return this.reason === "CONCURRENT_CHANGE" || (this.code === "ABORTED" && this.reason === "");
  }

  /**
   * The message for people: a plain Chinese sentence for the refusals a
   * user meets every day (by ErrorInfo.reason or code), followed by the
   * service's own message, which says exactly what to fix.
   */
  get display(): string {
    if (this.status === 429) {
      return this.retryAfter !== undefined ? `操作太频繁，请稍后再试（${waitText(this.retryAfter)}后）` : "操作太频繁，请稍后再试";
    }
    if (this.status === 0) return "无法连接服务，请检查网络后再试";
    const plain = reasonTexts[this.reason] ?? codeTexts[this.code];
    const msg = this.message || `HTTP ${this.status}`;
    return plain ? `${plain}：${msg}` : msg;
  }
}

const reasonTexts: Record<string, string> = {
  WRONG_CREDENTIALS: "用户名或密码不正确",
  CONCURRENT_CHANGE: "案件已被他人修改",
  ACTION_NOT_ALLOWED: "案件当前状态不允许此操作",
  ALREADY_ASSIGNED: "案件已分派给该调解员",
  PERMISSION_DENIED: "无权进行此操作",
  REQUEST_ID_REUSED: "重复提交",
  DATABASE_UNAVAILABLE: "服务暂时不可用，请稍后再试",
};

const codeTexts: Record<string, string> = {
  INVALID_ARGUMENT: "填写有误",
  NOT_FOUND: "未找到（或不在您的权限范围内）",
  PERMISSION_DENIED: "无权进行此操作",
  UNAUTHENTICATED: "登录已失效，请重新登录",
  FAILED_PRECONDITION: "案件当前状态不允许此操作",
  ABORTED: "案件已被他人修改",
  UNAVAILABLE: "服务暂时不可用，请稍后再试",
};

const codeNames = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

/** waitText says a wait of so many seconds in Chinese: "30 秒", "2 分钟". */
export function waitText(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} 秒`;
  return `${Math.ceil(s / 60)} 分钟`;
}

/** parseRetryAfter reads Retry-After: delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.round((t - now) / 1000));
}

interface StatusBody {
  code?: number;
  message?: string;
  details?: Array<Record<string, unknown>>;
}

/** toApiError makes an ApiError of a failed response and its parsed body. */
export function toApiError(response: Response, body: unknown): ApiError {
  const st = (body && typeof body === "object" ? body : {}) as StatusBody;
  let reason = "";
  const violations: FieldViolation[] = [];
  for (const d of st.details ?? []) {
    const type = String(d["@type"] ?? "");
    if (type.endsWith("google.rpc.ErrorInfo")) {
      reason = String(d.reason ?? "");
    } else if (type.endsWith("google.rpc.BadRequest")) {
      for (const v of (d.fieldViolations as FieldViolation[] | undefined) ?? []) {
        violations.push({ field: String(v.field ?? ""), description: String(v.description ?? "") });
      }
    }
  }
  const code = typeof st.code === "number" ? codeNames[st.code] ?? "" : "";
  const message = st.message || (typeof body === "string" && body ? body : response.statusText);
  return new ApiError({
    status: response.status,
    code,
    message,
    reason,
    violations,
    retryAfter: parseRetryAfter(response.headers.get("Retry-After")),
  });
}

/** fieldErrors maps violations onto form fields: the violation's field path,
 * with a prefix such as "case." or "agreement." removed, camel-cased as the
 * JSON names are. Unmatched violations stay in `rest`. */
export function fieldErrors(err: ApiError, fields: string[], prefixes: string[] = []): { byField: Record<string, string>; rest: FieldViolation[] } {
  const byField: Record<string, string> = {};
  const rest: FieldViolation[] = [];
  for (const v of err.violations) {
    let f = camel(v.field);
    for (const p of prefixes) if (f.startsWith(p)) f = f.slice(p.length);
    const match = fields.find((name) => f === name || f.startsWith(name + ".") || f.startsWith(name + "["));
    if (match) byField[match] = byField[match] ? `${byField[match]}；${v.description}` : v.description;
    else rest.push(v);
  }
  return { byField, rest };
}

/** camel turns a proto field path (snake_case) into the JSON one. */
export function camel(path: string): string {
  return path.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}
