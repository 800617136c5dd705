// Package migrations holds the numbered SQL migrations of the mediationd
// schema. They are embedded in the binary and applied in order by
// `mediationd migrate` (or at start with --migrate). A migration that has
// been released is never edited; changes come as a new file.
package migrations

import "embed"

// FS holds every migration, named NNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
