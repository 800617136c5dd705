package delivery

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultSchedule is the delays between attempts: ten attempts over about
// three days.
const DefaultSchedule = "5s,5m,30m,2h,5h,10h,14h,20h,24h"

// ParseSchedule reads a comma-separated list of positive delays.
func ParseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for f := range strings.SplitSeq(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q is not a positive duration such as 5s or 2h; give comma-separated delays such as %s", strings.TrimSpace(f), DefaultSchedule)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no delays; give comma-separated delays such as %s", DefaultSchedule)
	}
	return out, nil
}

// retryDelay is how long to wait after the attempts-th failed attempt
// (1-based), and false when that was the last: the schedule's delay with
// ±20% jitter, or the receiver's Retry-After when it asked for one (429,
// 503), bounded by the longest delay of the schedule.
func retryDelay(schedule []time.Duration, attempts int, retryAfter time.Duration) (time.Duration, bool) {
	if attempts > len(schedule) {
		return 0, false
	}
	if retryAfter > 0 {
		return min(retryAfter, maxDelay(schedule)), true
	}
	d := schedule[attempts-1]
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64())), true
}

func maxDelay(schedule []time.Duration) time.Duration {
	m := schedule[0]
	for _, d := range schedule {
		m = max(m, d)
	}
	return m
}

// parseRetryAfter reads a Retry-After header (seconds or an HTTP date) of
// a 429 or 503 answer; 0 if none or unreadable.
func parseRetryAfter(resp *http.Response, now time.Time) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return max(time.Duration(n)*time.Second, time.Millisecond)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
