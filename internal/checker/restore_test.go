package checker_test

import (
	"slices"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/checker"
)

// TestVerifyAcknowledgedBefore checks the restore verifier on a database
// that was not restored, where its answers are known: with the target
// after the run everything acknowledged is found and the invariants hold;
// with the target between two runs the second run's changes are reported
// as present after the target; a fabricated acknowledgement before the
// target is reported missing. The restore drill (cmd/mediationd
// TestBackupRestoreDrill) runs it on a real point-in-time restore.
func TestVerifyAcknowledgedBefore(t *testing.T) {
	dsn, conns, token := startServer(t)
	o := smallRun
	o.Actions, o.Seed = 300, 3
	ctx, w := setUp(t, conns, token, o)
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	middle := time.Now()
	time.Sleep(100 * time.Millisecond)
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Resolve(ctx); err != nil {
		t.Fatal(err)
	}
	rec := w.Record()
	margin := 20 * time.Millisecond
	all := checker.VerifyOptions{AllCases: true}

	end, err := checker.VerifyAcknowledgedBefore(ctx, dsn, rec, time.Now().Add(time.Second), margin, all)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("target after the run:\n%s", end)
	if !end.OK() {
		t.Errorf("target after the run: violations:\n%s", end)
	}
	acked := 0
	for _, c := range rec.Calls {
		if c.Outcome == checker.Acked {
			acked++
		}
	}
	if end.BeforeActions != acked || end.FoundActions != acked || end.AfterActions != 0 || end.BeforeCreates == 0 {
		t.Errorf("target after the run: %d/%d actions found of %d acknowledged, %d after, %d registrations; want all found, none after",
			end.FoundActions, end.BeforeActions, acked, end.AfterActions, end.BeforeCreates)
	}

	mid, err := checker.VerifyAcknowledgedBefore(ctx, dsn, rec, middle, margin, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(mid.Missing) != 0 || mid.AfterActions == 0 || len(mid.Present) == 0 || mid.OK() {
		t.Errorf("target between the runs, on the unrestored database: %d missing, %d actions after the target, %d present, OK %v; "+
			"want none missing and the second run's changes reported present:\n%s", len(mid.Missing), mid.AfterActions, len(mid.Present), mid.OK(), mid)
	}
	for _, v := range mid.Present {
		if v.Class != checker.ClassAfterTarget {
			t.Errorf("present after the target reported as %s: %s", v.Class, v)
		}
	}

	var fake checker.Call
	for _, c := range rec.Calls {
		if c.Outcome == checker.Acked && c.End.Before(middle) {
			fake = c
		}
	}
	fake.Seq, fake.EventVersion, fake.RequestID = 1<<40, fake.EventVersion+1000, ""
	forged := rec
	forged.Calls = append(slices.Clone(rec.Calls), fake)
	lost, err := checker.VerifyAcknowledgedBefore(ctx, dsn, forged, time.Now().Add(time.Second), margin, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(lost.Missing) != 1 || lost.Missing[0].Class != checker.ClassAckLost || lost.OK() {
		t.Errorf("a fabricated acknowledgement: missing %v, OK %v; want it alone reported as %s", lost.Missing, lost.OK(), checker.ClassAckLost)
	}
}
