package casework

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// DueTime is the end of the day, in loc, that lies days after start's day:
// a time limit of 30 days from an acceptance on 1 March ends at midnight
// closing 31 March, local time.
func DueTime(start time.Time, days int, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := start.In(loc).Date()
	return time.Date(y, m, d+days+1, 0, 0, 0, 0, loc).Add(-time.Microsecond).UTC()
}

// DaysRemaining counts whole days, in loc, from now's date to due's date:
// 0 on the last day, negative once the day has passed.
func DaysRemaining(due, now time.Time, loc *time.Location) int {
	if loc == nil {
		loc = time.UTC
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return int(day(due).Sub(day(now)).Hours() / 24)
}

// FormatYuan renders an amount in fen as yuan with two decimals.
func FormatYuan(fen int64) string {
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}

// ParseYuan checks an amount of money in yuan ("5000", "5000.5",
// "5000.50") and returns it in fen (hundredths).
func ParseYuan(s string) (int64, error) {
	bad := fmt.Errorf("%q is not an amount in yuan such as 5000 or 5000.50", s)
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || len(frac) > 2 || (dot && frac == "") || strings.Count(s, ".") > 1 {
		return 0, bad
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, bad
		}
	}
	frac += strings.Repeat("0", 2-len(frac))
	n, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok || !n.IsInt64() {
		return 0, errors.Join(bad, errors.New("out of range"))
	}
	return n.Int64(), nil
}
