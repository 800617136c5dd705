package authn

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// The argon2id parameters of new hashes: OWASP's minimum recommendation
// (19 MiB of memory, 2 passes, 1 lane), a 16-byte salt and a 32-byte key.
// Each hash records its parameters, so raising them here affects new
// hashes only; old ones are still checked with their own.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// Bounds on the parameters read from a stored hash, so that a corrupt or
// hostile row cannot make a check take unbounded memory or time.
const (
	maxArgonMemoryKiB = 1 << 20 // 1 GiB
	maxArgonTime      = 64
	maxArgonThreads   = 64
)

// MinPasswordLength is the fewest characters a password may have.
const MinPasswordLength = 12

// b64 is the encoding of salts and keys in PHC strings: standard base64
// without padding.
var b64 = base64.RawStdEncoding

// errMalformedHash reports a stored hash that is not an argon2id PHC
// string this package can check.
var errMalformedHash = errors.New("not an argon2id PHC string")

// HashPassword returns the argon2id hash of password in the PHC string
// format, $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, with a fresh random
// salt. It takes the time and memory of one password check.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails: it crashes the program instead
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// argonHash is a parsed PHC string.
type argonHash struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

func parseHash(phc string) (argonHash, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return argonHash{}, errMalformedHash
	}
	var h argonHash
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || n == 0 {
			return argonHash{}, errMalformedHash
		}
		switch {
		case k == "m" && n <= maxArgonMemoryKiB:
			h.memory = uint32(n)
		case k == "t" && n <= maxArgonTime:
			h.time = uint32(n)
		case k == "p" && n <= maxArgonThreads:
			h.threads = uint8(n)
		default:
			return argonHash{}, errMalformedHash
		}
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return argonHash{}, errMalformedHash
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return argonHash{}, errMalformedHash
	}
	if h.memory == 0 || h.time == 0 || h.threads == 0 || h.memory < 8*uint32(h.threads) {
		return argonHash{}, errMalformedHash
	}
	return h, nil
}

// CheckPassword reports whether password matches the PHC string phc,
// comparing in constant time with the parameters the string records. A
// string it cannot read is an error.
func CheckPassword(phc, password string) (bool, error) {
	h, err := parseHash(phc)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// dummyHash is checked instead of a password hash when the username is
// unknown, so that a wrong username takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() string { return HashPassword(rand.Text()) })
