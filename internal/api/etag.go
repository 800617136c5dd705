package api

import (
	"fmt"
	"strconv"
	"strings"
)

// Etag renders a version (of a case, a directory entry, a user) as the
// etag clients send back (AIP-154).
func Etag(version int64) string { return fmt.Sprintf("v%d", version) }

// ParseEtag reads the version an etag made by Etag stands for; false for
// anything Etag does not make.
func ParseEtag(etag string) (int64, bool) {
	v, err := strconv.ParseInt(strings.TrimPrefix(etag, "v"), 10, 64)
	if err != nil || v <= 0 || Etag(v) != etag {
		return 0, false
	}
	return v, true
}
