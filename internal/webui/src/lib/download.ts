// Files the service makes (statistics as CSV…), fetched with the user's
// token and saved under the name the service gives.
import { authHeaders } from "../api/client";
import { ApiError, toApiError } from "../api/errors";

/**
 * downloadName reads a Content-Disposition header's file name: the UTF-8
 * filename* (RFC 6266) when there is one, else the plain filename; "" when
 * neither is there.
 */
export function downloadName(header: string | null): string {
  if (!header) return "";
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // a malformed escape: fall back to the plain name
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(header);
  return (plain?.[1] ?? plain?.[2] ?? "").trim();
}

/**
 * download fetches path with the user's token and saves the body under the
 * service's file name (fallback when it gives none); a refusal is thrown
 * as ApiError.
 */
export async function download(path: string, fallback: string): Promise<string> {
  let r: Response;
  try {
    r = await fetch(path, { headers: authHeaders() });
  } catch (e) {
    throw new ApiError({ status: 0, code: "UNAVAILABLE", message: e instanceof Error ? e.message : String(e) });
  }
  if (!r.ok) throw toApiError(r, await r.json().catch(() => null));
  const name = downloadName(r.headers.get("Content-Disposition")) || fallback;
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return name;
}
