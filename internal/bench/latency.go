package bench

import (
	"slices"
	"time"
)

// opKind names one kind of call the benchmark makes.
type opKind uint8

// The calls, in lifecycle order, then the reads.
const (
	opCreate opKind = iota
	opAccept
	opAssign
	opStartMediation
	opScheduleSession
	opRecordSession
	opRecordAgreement
	opRecordFollowUp
	opClose
	opGet
	opList
	opEvents
	numOpKinds
)

// opNames are the names of the calls as reports show them.
var opNames = [numOpKinds]string{
	"create", "accept", "assign", "startMediation", "scheduleSession", "recordSession",
	"recordAgreement", "recordFollowUp", "close", "get", "list", "events",
}

func (k opKind) String() string {
	if k < numOpKinds {
		return opNames[k]
	}
	return "unknown"
}

// lifecycle is the path every benchmark case takes, from registration to
// closure: every lifecycle action a successful mediation goes through.
var lifecycle = []opKind{
	opCreate, opAccept, opAssign, opStartMediation, opScheduleSession,
	opRecordSession, opRecordAgreement, opRecordFollowUp, opClose,
}

// sample is one timed call.
type sample struct {
	d    time.Duration
	kind opKind
	// at is when the call completed, from the start of the measurement.
	at time.Duration
}

// Stats summarise the latencies of a set of calls.
type Stats struct {
	Count int           `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P95   time.Duration `json:"p95_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

// summarize sorts ds in place and returns its nearest-rank percentiles.
func summarize(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	slices.Sort(ds)
	return Stats{
		Count: len(ds),
		P50:   percentile(ds, 50),
		P95:   percentile(ds, 95),
		P99:   percentile(ds, 99),
		Max:   ds[len(ds)-1],
	}
}

// percentile is the nearest-rank p-th percentile of sorted ds.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// summarizeSamples returns the statistics of all samples and of each kind
// of call.
func summarizeSamples(samples []sample) (Stats, map[string]Stats) {
	all := make([]time.Duration, len(samples))
	var byKind [numOpKinds][]time.Duration
	for i, s := range samples {
		all[i] = s.d
		byKind[s.kind] = append(byKind[s.kind], s.d)
	}
	kinds := map[string]Stats{}
	for k, ds := range byKind {
		if len(ds) > 0 {
			kinds[opKind(k).String()] = summarize(ds)
		}
	}
	return summarize(all), kinds
}
