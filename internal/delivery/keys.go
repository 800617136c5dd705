package delivery

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the file in the data directory that holds the secrets
// key of a private-cluster start, when MEDIATION_SECRET_KEY is not set.
const KeyFileName = "webhook-secret.key"

// ErrNoSecretKey reports that no key to encrypt webhook secrets with was
// configured: registering an endpoint is then refused.
var ErrNoSecretKey = errors.New("webhook secrets cannot be stored: no encryption key is configured; set MEDIATION_SECRET_KEY to the base64 of 32 random bytes (for example the output of `openssl rand -base64 32`) on every replica and restart")

// Keyring encrypts the endpoints' signing secrets at rest with
// AES-256-GCM. The zero Keyring (no key) refuses to encrypt or decrypt
// with ErrNoSecretKey.
type Keyring struct {
	aead cipher.AEAD
}

// NewKeyring returns a keyring over a 32-byte key.
func NewKeyring(key []byte) (*Keyring, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("the secrets key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{aead: aead}, nil
}

// ParseKey decodes the base64 of MEDIATION_SECRET_KEY into a keyring.
func ParseKey(b64 string) (*Keyring, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errors.New("MEDIATION_SECRET_KEY is not base64: give the base64 of 32 random bytes, e.g. `openssl rand -base64 32`")
	}
	k, err := NewKeyring(key)
	if err != nil {
		return nil, fmt.Errorf("MEDIATION_SECRET_KEY: %w", err)
	}
	return k, nil
}

// LoadOrCreateKeyFile reads the key file of the data directory, creating
// it (mode 0600, 32 random bytes in base64) when it does not exist. It is
// the zero-configuration choice of a private cluster, whose data directory
// is already the service's own.
func LoadOrCreateKeyFile(dataDir string) (*Keyring, error) {
	path := filepath.Join(dataDir, KeyFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", dataDir, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKeyFile(dataDir) // another process made it first
		}
		if err != nil {
			return nil, fmt.Errorf("create the secrets key file: %w", err)
		}
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("write the secrets key file %s: %w", path, werr)
		}
		return NewKeyring(key)
	}
	if err != nil {
		return nil, fmt.Errorf("read the secrets key file: %w", err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("the secrets key file %s: %w", path, err)
	}
	return k, nil
}

// Seal encrypts a secret: a random nonce followed by the ciphertext.
func (k *Keyring) Seal(secret string) ([]byte, error) {
	if k == nil || k.aead == nil {
		return nil, ErrNoSecretKey
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, []byte(secret), []byte("mediationd webhook secret")), nil
}

// Open decrypts what Seal made.
func (k *Keyring) Open(sealed []byte) (string, error) {
	if k == nil || k.aead == nil {
		return "", ErrNoSecretKey
	}
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("a stored webhook secret is truncated")
	}
	b, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte("mediationd webhook secret"))
	if err != nil {
		return "", errors.New("a stored webhook secret does not decrypt with the configured MEDIATION_SECRET_KEY: was the key changed?")
	}
	return string(b), nil
}
