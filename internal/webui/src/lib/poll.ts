// Freshness: open lists and cases are read again every few seconds while
// the tab is visible, and the page takes the new data only when the
// service's etag / update_time changed, so nothing flickers. (Polling
// rather than a stream: the API is plain REST behind the same rate limit,
// and a poll a few seconds apart is well inside it.)
import { onBeforeUnmount, onMounted } from "vue";

/** The default poll interval in milliseconds; tests may shorten it with ?poll=ms. */
export function pollInterval(defaultMs = 15000): number {
  const q = new URLSearchParams(location.search).get("poll");
  const n = q ? Number(q) : NaN;
  return Number.isFinite(n) && n >= 500 ? n : defaultMs;
}

/** usePoll calls fn every ms while the component is mounted and the tab visible. */
export function usePoll(fn: () => Promise<void> | void, ms = pollInterval()): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const tick = async (): Promise<void> => {
    if (stopped) return;
    if (document.visibilityState === "visible") {
      try {
        await fn();
      } catch {
        // A failed poll is retried at the next tick; the page keeps what it has.
      }
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  onMounted(() => {
    timer = setTimeout(tick, ms);
  });
  onBeforeUnmount(() => {
    stopped = true;
    if (timer) clearTimeout(timer);
  });
}

/** changed reports whether two lists of cases differ in membership or version. */
export function changed(a: Array<{ name?: string; etag?: string }>, b: Array<{ name?: string; etag?: string }>): boolean {
  if (a.length !== b.length) return true;
  return a.some((x, i) => x.name !== b[i]?.name || x.etag !== b[i]?.etag);
}
