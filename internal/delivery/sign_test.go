package delivery_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/delivery"
)

// The published test vector of the Standard Webhooks libraries
// (standard-webhooks/standard-webhooks, libraries/go/webhook_test.go,
// TestWebhookSign; the same in the JavaScript and Python libraries).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	// A well-formed signature that is not the vector's, from the same
	// tests.
	otherSignature = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
)

func TestSignMatchesTheSpecificationsVector(t *testing.T) {
	for _, secret := range []string{vectorSecret, strings.TrimPrefix(vectorSecret, "whsec_")} {
		key, err := delivery.SecretKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		if got := delivery.Sign(key, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody)); got != vectorSignature {
			t.Errorf("Sign with %q = %s, the specification says %s", secret, got, vectorSignature)
		}
	}
}

func TestVerify(t *testing.T) {
	at := time.Unix(vectorTimestamp, 0)
	header := func(sig string) http.Header {
		h := http.Header{}
		h.Set(delivery.HeaderID, vectorID)
		h.Set(delivery.HeaderTimestamp, "1614265330")
		h.Set(delivery.HeaderSignature, sig)
		return h
	}
	key, _ := delivery.SecretKey(vectorSecret)
	other, _ := delivery.SecretKey("whsec_" + "c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=")
	rotated := delivery.SignatureHeader([][]byte{other, key}, vectorID, at, []byte(vectorBody))
	if !strings.Contains(rotated, " ") || !strings.HasSuffix(rotated, vectorSignature) {
		t.Errorf("a header with two keys is %q, want two signatures, the vector's last", rotated)
	}
	cases := []struct {
		name    string
		h       http.Header
		body    string
		now     time.Time
		wantErr bool
	}{
		{"the vector", header(vectorSignature), vectorBody, at, false},
		{"several signatures, one valid", header("v1,bm90LWEtc2lnbmF0dXJl v2,x " + vectorSignature + " " + otherSignature), vectorBody, at, false},
		{"signed with old and new keys", header(rotated), vectorBody, at, false},
		{"another signature", header(otherSignature), vectorBody, at, true},
		{"body changed", header(vectorSignature), `{"test": 2432232315}`, at, true},
		{"too old", header(vectorSignature), vectorBody, at.Add(6 * time.Minute), true},
		{"from the future", header(vectorSignature), vectorBody, at.Add(-6 * time.Minute), true},
		{"no signature", header(""), vectorBody, at, true},
	}
	for _, c := range cases {
		err := delivery.Verify(vectorSecret, c.h, []byte(c.body), c.now, 5*time.Minute)
		if (err != nil) != c.wantErr {
			t.Errorf("%s: Verify = %v, want error %v", c.name, err, c.wantErr)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, err := delivery.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := delivery.NewSecret()
	key, err := delivery.SecretKey(a)
	if !strings.HasPrefix(a, "whsec_") || err != nil || len(key) != 24 || a == b {
		t.Errorf("NewSecret = %q, %q (key %d bytes, %v)", a, b, len(key), err)
	}
}
