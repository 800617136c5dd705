package delivery

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGuardChecksEveryConnection: the check after DNS refuses a loopback
// connection the sender is about to make, whatever the URL said, unless
// the network is allowed.
func TestGuardChecksEveryConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	for _, tc := range []struct {
		allowed []netip.Prefix
		scheme  string
		wantErr string
	}{
		{nil, "https", "loopback"},
		{nil, "http", "plain http"},
		{[]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "http", "plain http"},
		{[]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "http", ""},
	} {
		c := Guard{Allowed: tc.allowed}.Clients(time.Second)[tc.scheme]
		// The https client dials the http server: the guard decides before
		// any TLS happens, so the refusal is the guard's.
		url := strings.Replace(srv.URL, "http://", tc.scheme+"://", 1)
		resp, err := c.Get(url)
		if resp != nil {
			resp.Body.Close()
		}
		var refused *refusedError
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s with %v allowed: %v", url, tc.allowed, err)
		case tc.wantErr != "" && (!errors.As(err, &refused) || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s with %v allowed: %v, want a refusal saying %q", url, tc.allowed, err, tc.wantErr)
		}
	}
}

func TestCheckURL(t *testing.T) {
	strict := Guard{}
	intranet := Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
	for _, tc := range []struct {
		g       Guard
		url     string
		wantErr string
	}{
		{strict, "https://8.8.8.8/hooks", ""},
		{strict, "http://8.8.8.8/hooks", "use https"},
		{strict, "https://10.0.0.1/", "private"},
		{strict, "https://192.168.1.1/", "private"},
		{strict, "https://100.64.0.1/", "private"},
		{strict, "https://127.0.0.1/", "loopback"},
		{strict, "https://[::1]/", "loopback"},
		{strict, "https://[::ffff:127.0.0.1]/", "loopback"},
		{strict, "https://169.254.169.254/", "link-local"},
		{strict, "https://0.0.0.0/", "unspecified"},
		{strict, "https://localhost/", "resolves to"},
		{strict, "ftp://8.8.8.8/", "scheme"},
		{strict, "https://user:pw@8.8.8.8/", "user name"},
		{strict, "/relative", "absolute"},
		{intranet, "http://10.20.3.4:8443/court", ""},
		{intranet, "https://10.20.3.4/court", ""},
		{intranet, "http://10.21.0.1/", "plain http"},
	} {
		err := tc.g.CheckURL(context.Background(), tc.url)
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("CheckURL(%s) = %v, want %q", tc.url, err, tc.wantErr)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	schedule, err := ParseSchedule(DefaultSchedule)
	if err != nil || len(schedule) != 9 || schedule[8] != 24*time.Hour {
		t.Fatalf("ParseSchedule(default) = %v, %v", schedule, err)
	}
	var total time.Duration
	for attempt := 1; attempt <= len(schedule); attempt++ {
		d, again := retryDelay(schedule, attempt, 0)
		want := schedule[attempt-1]
		if !again || d < want*8/10 || d > want*12/10 {
			t.Errorf("after attempt %d: %s, %v; want %s ±20%%", attempt, d, again, want)
		}
		total += want
	}
	if total < 3*24*time.Hour || total > 4*24*time.Hour {
		t.Errorf("the default schedule spans %s, want about 3 days", total)
	}
	if _, again := retryDelay(schedule, len(schedule)+1, 0); again {
		t.Error("a retry after the last attempt")
	}
	if d, _ := retryDelay(schedule, 1, 90*time.Second); d != 90*time.Second {
		t.Errorf("Retry-After 90s gave %s", d)
	}
	if d, _ := retryDelay(schedule, 1, 72*time.Hour); d != 24*time.Hour {
		t.Errorf("Retry-After 72h gave %s, want the schedule's longest delay", d)
	}
	for _, bad := range []string{"", "5s,,1m", "5s,soon", "-1s"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
	now := time.Now()
	for _, tc := range []struct {
		status int
		header string
		want   time.Duration
	}{
		{429, "7", 7 * time.Second},
		{503, now.Add(time.Minute).UTC().Format(http.TimeFormat), time.Minute},
		{500, "7", 0},
		{429, "soon", 0},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Retry-After": {tc.header}}}
		if got := parseRetryAfter(resp, now); got < tc.want-time.Second || got > tc.want {
			t.Errorf("%d Retry-After %q: %s, want %s", tc.status, tc.header, got, tc.want)
		}
	}
}

func TestKeyring(t *testing.T) {
	dir := t.TempDir()
	k, err := LoadOrCreateKeyFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
	}
	sealed, err := k.Seal("whsec_c2VjcmV0")
	if err != nil || strings.Contains(string(sealed), "c2VjcmV0") {
		t.Fatalf("Seal: %q, %v", sealed, err)
	}
	again, err := LoadOrCreateKeyFile(dir) // the same key, read back
	if err != nil {
		t.Fatal(err)
	}
	if s, err := again.Open(sealed); err != nil || s != "whsec_c2VjcmV0" {
		t.Errorf("Open with the key file read again: %q, %v", s, err)
	}
	other, _ := ParseKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if _, err := other.Open(sealed); err == nil || !strings.Contains(err.Error(), "MEDIATION_SECRET_KEY") {
		t.Errorf("Open with another key: %v", err)
	}
	var none *Keyring
	if _, err := none.Seal("x"); !errors.Is(err, ErrNoSecretKey) {
		t.Errorf("Seal without a key: %v", err)
	}
	if _, err := ParseKey("c2hvcnQ="); err == nil {
		t.Error("a 5-byte key accepted")
	}
}

// TestSendNeverOutlivesItsLease: a claimed message whose lease has less
// left than an attempt may take is not sent.
func TestSendNeverOutlivesItsLease(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(nil, Options{Timeout: 10 * time.Second, Lease: 30 * time.Second, Clock: func() time.Time { return now }})
	if left := 30*time.Second - s.opt.Timeout; left <= leaseMargin {
		t.Fatalf("a fresh lease leaves %s beyond the timeout", left)
	}
	for _, tc := range []struct {
		left time.Duration
		send bool
	}{{30 * time.Second, true}, {11 * time.Second, true}, {10 * time.Second, false}, {time.Second, false}} {
		if got := s.leaseCovers(now.Add(tc.left)); got != tc.send {
			t.Errorf("%s of lease left: send %v, want %v", tc.left, got, tc.send)
		}
	}
}
