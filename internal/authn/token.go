package authn

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Credentials are 32 random bytes in unpadded base64url (43 characters)
// behind a prefix that says what they are, so that a secret found in a
// log or a repository is recognisable, and so that the authenticator
// knows where to look one up without trying both tables.
const (
	// SessionTokenPrefix starts the bearer token of a signed-in user.
	SessionTokenPrefix = "mds_"
	// APIKeySecretPrefix starts the secret of an API key.
	APIKeySecretPrefix = "mdk_"

	secretBytes  = 32
	secretChars  = 43 // base64url of 32 bytes, unpadded
	prefixLength = 4
	// shownSecretChars is how much of an API key secret is kept in the
	// clear (its prefix and 8 characters: 48 of its 256 bits), to tell
	// keys apart in a configuration.
	shownSecretChars = prefixLength + 8
)

var secretEncoding = base64.RawURLEncoding.Strict()

// credentialKind says what a bearer credential is.
type credentialKind int

const (
	kindInvalid credentialKind = iota
	kindSession
	kindAPIKey
)

// newSecret returns a fresh credential with the prefix.
func newSecret(prefix string) string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails: it crashes the program instead
	return prefix + secretEncoding.EncodeToString(b)
}

// kindOf says what a credential is by its form, without looking it up.
func kindOf(credential string) credentialKind {
	if len(credential) != prefixLength+secretChars {
		return kindInvalid
	}
	var kind credentialKind
	switch credential[:prefixLength] {
	case SessionTokenPrefix:
		kind = kindSession
	case APIKeySecretPrefix:
		kind = kindAPIKey
	default:
		return kindInvalid
	}
	if b, err := secretEncoding.DecodeString(credential[prefixLength:]); err != nil || len(b) != secretBytes {
		return kindInvalid
	}
	return kind
}

// hashOf is the SHA-256 hash of a credential: what the database keeps,
// and the key of the cache. The credentials are random, so a fast hash is
// enough: there is nothing to guess from it.
func hashOf(credential string) [sha256.Size]byte { return sha256.Sum256([]byte(credential)) }

// NewAPIKeySecret returns a fresh API key secret, the SHA-256 hash to
// store, and the start of the secret to keep in the clear.
func NewAPIKeySecret() (secret string, hash []byte, prefix string) {
	secret = newSecret(APIKeySecretPrefix)
	h := hashOf(secret)
	return secret, h[:], secret[:shownSecretChars]
}

// BearerToken extracts the credential from the value of an Authorization
// header, "Bearer <credential>" (the scheme in any case). It reports
// false when the value is not of that form.
func BearerToken(header string) (string, bool) {
	scheme, credential, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	credential = strings.TrimSpace(credential)
	return credential, credential != ""
}
