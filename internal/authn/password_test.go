package authn_test

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/mediationd/mediationd/internal/authn"
)

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashPassword(t *testing.T) {
	h1 := authn.HashPassword(password)
	h2 := authn.HashPassword(password)
	for _, h := range []string{h1, h2} {
		if !phcPattern.MatchString(h) {
			t.Errorf("hash %q is not a PHC string with OWASP's parameters, a 16-byte salt and a 32-byte key", h)
		}
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{password, true}, {wrongPassword, false}, {"", false}, {password + " ", false}} {
		if ok, err := authn.CheckPassword(h1, tt.pw); ok != tt.want || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
}

// TestCheckPasswordReadsParameters checks a hash made with other
// parameters than today's, as after they are raised.
func TestCheckPasswordReadsParameters(t *testing.T) {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(password), salt, 1, 8*1024, 2, 16)
	b64 := base64.RawStdEncoding
	phc := fmt.Sprintf("$argon2id$v=19$m=%d,t=1,p=2$%s$%s", 8*1024, b64.EncodeToString(salt), b64.EncodeToString(key))
	if ok, err := authn.CheckPassword(phc, password); !ok || err != nil {
		t.Errorf("CheckPassword with m=8192,t=1,p=2 and a 16-byte key = %v, %v", ok, err)
	}
	if ok, _ := authn.CheckPassword(phc, wrongPassword); ok {
		t.Error("a wrong password matched")
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good := authn.HashPassword(password)
	for _, phc := range []string{
		"",
		password,
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=1,x=3$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=1$!!!$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA",
		good + "$",
	} {
		if ok, err := authn.CheckPassword(phc, password); ok || err == nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want an error", phc, ok, err)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for _, tt := range []struct {
		header, want string
		ok           bool
	}{
		{"Bearer mds_abc", "mds_abc", true},
		{"bearer   mds_abc  ", "mds_abc", true},
		{"BEARER mdk_x", "mdk_x", true},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearer", "", false},
		{"Bearer   ", "", false},
		{"mds_abc", "", false},
		{"", "", false},
	} {
		got, ok := authn.BearerToken(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}
