package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mediationd/mediationd/internal/casework"
)

// mapOutboxPayload is how outboxPayload built the message before it was
// a struct, kept to compare with.
func mapOutboxPayload(c casework.Case, ev casework.Event) []byte {
	p := map[string]any{
		"case":        "cases/" + c.ID.String(),
		"version":     ev.Version,
		"action":      ev.Action,
		"from_state":  ev.From,
		"to_state":    ev.To,
		"outcome":     ev.Outcome,
		"actor":       ev.Actor,
		"occur_time":  ev.Time.UTC().Format(time.RFC3339Nano),
		"data":        ev.Data,
		"region_code": c.RegionCode,
		"source":      c.Source,
	}
	if c.Number != "" {
		p["case_number"] = c.Number
	}
	if ev.RequestID != "" {
		p["request_id"] = ev.RequestID
	}
	if a := c.Agreement; a != nil {
		p["confirmation_deadline"] = a.ConfirmationDeadline()
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

// TestOutboxPayloadAsBefore checks that the outbox message holds the same
// JSON value (jsonb keeps no key order) as when it was built from a map:
// with and without a case number, a request id, an agreement (signed or
// not), and with the data of an event.
func TestOutboxPayloadAsBefore(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890000000, time.FixedZone("CST", 8*3600))
	base := casework.Case{ID: uuid.MustParse("0191c3a2-7b1e-7cc0-9e3a-5d6f7a8b9c0d"), RegionCode: "621002", Source: casework.SourceWalkIn}
	ev := casework.Event{Version: 3, Action: casework.ActionAssign, From: casework.StateAccepted, To: casework.StateAssigned,
		Actor: "users/lead", Time: at}
	withNumber := base
	withNumber.Number = "西峰调〔2026〕00001号"
	signed := withNumber
	signed.Agreement = &casework.Agreement{Terms: "<赔偿> & 道歉", SignDate: "2026-03-01", RecordTime: at}
	unsigned := withNumber
	unsigned.Agreement = &casework.Agreement{Terms: "口头"}
	withData := ev
	withData.RequestID = uuid.NewString()
	withData.Outcome = casework.Outcome("AGREED")
	withData.Data = casework.EventData{Reason: "调整", Assignment: &casework.Assignment{Organization: "organizations/a", Mediator: "mediators/b"},
		ChangedFields: []string{"summary"}}
	for _, c := range []casework.Case{base, withNumber, signed, unsigned} {
		for _, e := range []casework.Event{ev, withData} {
			got, err := outboxPayload(c, e)
			if err != nil {
				t.Fatal(err)
			}
			var gotV, wantV any
			if err := json.Unmarshal(got, &gotV); err != nil {
				t.Fatal(err)
			}
			want := mapOutboxPayload(c, e)
			if err := json.Unmarshal(want, &wantV); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotV, wantV) {
				t.Errorf("payload\n%s\nwant the value of\n%s", got, want)
			}
		}
	}
}

func BenchmarkOutboxPayload(b *testing.B) {
	c := casework.Case{ID: uuid.New(), Number: "西峰调〔2026〕00001号", RegionCode: "621002", Source: casework.SourceWalkIn}
	ev := casework.Event{Version: 3, Action: casework.ActionAssign, From: casework.StateAccepted, To: casework.StateAssigned,
		Actor: "users/lead", Time: time.Now(), RequestID: uuid.NewString(),
		Data: casework.EventData{Assignment: &casework.Assignment{Organization: "organizations/a", Mediator: "mediators/b"}}}
	b.Run("struct", func(b *testing.B) {
		for b.Loop() {
			if _, err := outboxPayload(c, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			mapOutboxPayload(c, ev)
		}
	})
}
