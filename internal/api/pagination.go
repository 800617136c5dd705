package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/mediationd/mediationd/internal/casework"
)

const (
	defaultPageSize      = 50
	defaultEventPageSize = 100
	maxPageSize          = 1000
)

func pageSize(requested int32, def int) int {
	switch {
	case requested <= 0:
		return def
	case requested > maxPageSize:
		return maxPageSize
	}
	return int(requested)
}

// pageToken is the opaque cursor handed to clients: where the last page
// ended, and a fingerprint of the query, so that a token is not reused
// with a different filter or order.
type pageToken struct {
	After int64  `json:"a"`
	Query string `json:"q,omitempty"`
}

func queryFingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

func encodePageToken(after int64, query string) string {
	if after == 0 {
		return ""
	}
	b, _ := json.Marshal(pageToken{After: after, Query: query})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodePageToken returns the cursor in token; "" is the first page.
func decodePageToken(token, query string) (int64, error) {
	if token == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	var t pageToken
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.After <= 0 {
		return 0, &casework.FieldError{Field: "page_token", Message: "not a page token this service issued: pass next_page_token from the previous response unchanged"}
	}
	if t.Query != query {
		return 0, &casework.FieldError{Field: "page_token", Message: "the page token belongs to a different filter or order_by: keep the other parameters unchanged between pages, or start again without a page_token"}
	}
	return t.After, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
