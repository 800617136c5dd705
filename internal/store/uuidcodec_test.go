package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
)

// TestUUIDsTravelAsBefore checks the pool's uuid codec against what pgx did
// through database/sql's interfaces: the same value in and out, NULL for a
// nil pointer, a NULL column leaving a uuid.UUID as it was, the text form
// where a parameter is text, and arrays of ids.
func TestUUIDsTravelAsBefore(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	pool := st.Pool()
	id := uuid.MustParse("0191c3a2-7b1e-7cc0-9e3a-5d6f7a8b9c0d")

	var back uuid.UUID
	var text string
	if err := pool.QueryRow(ctx, `SELECT $1::uuid, $1::uuid::text`, id).Scan(&back, &text); err != nil {
		t.Fatal(err)
	}
	if back != id || text != id.String() {
		t.Errorf("round trip: got %s and %q, want %s", back, text, id)
	}

	var isNull bool
	var nilID *uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT $1::uuid IS NULL`, nilID).Scan(&isNull); err != nil || !isNull {
		t.Errorf("a nil *uuid.UUID: NULL = %v, err %v", isNull, err)
	}
	if err := pool.QueryRow(ctx, `SELECT $1::uuid IS NULL`, &id).Scan(&isNull); err != nil || isNull {
		t.Errorf("a *uuid.UUID: NULL = %v, err %v", isNull, err)
	}

	kept := id
	var ptr *uuid.UUID = &id
	if err := pool.QueryRow(ctx, `SELECT NULL::uuid, NULL::uuid`).Scan(&kept, &ptr); err != nil {
		t.Fatal(err)
	}
	if kept != id || ptr != nil {
		t.Errorf("NULL: uuid.UUID became %s (want it unchanged), *uuid.UUID %v (want nil)", kept, ptr)
	}

	if err := pool.QueryRow(ctx, `SELECT 'cases/' || $1::text`, id).Scan(&text); err != nil || text != "cases/"+id.String() {
		t.Errorf("as a text parameter: %q, %v", text, err)
	}

	other := uuid.New()
	var ids []uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT $1::uuid[]`, []uuid.UUID{id, other}).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != id || ids[1] != other {
		t.Errorf("array: got %v", ids)
	}

	if err := pool.QueryRow(ctx, `SELECT $1::text::uuid`, "not-a-uuid").Scan(&back); err == nil {
		t.Error("a malformed uuid was accepted")
	}
}
