// Package checker drives mediationd with a concurrent, deliberately messy
// workload and then checks the database against what the clients were
// told.
//
// The workload (Workload) registers cases, some of them twice with the same
// request id, and fires random lifecycle actions at them from several
// workers: actions the state allows and actions it does not, with correct,
// stale and malformed etags, with fresh, reused and retried request ids,
// at a few hot cases that every worker contends for and many cold ones,
// spread over one or several replicas. It records, on the client side,
// every call and what came of it: acknowledged, refused, or unknown (the
// call ended without an answer, so it may or may not have been applied).
//
// The verifier (Verify) reads the database directly and checks that the
// history accounts for exactly what the clients saw: every acknowledged
// action recorded once, versions without gaps, states that follow from the
// history, an outbox row per change, no trace of refused requests, one case
// per create request id, and an audit row per write. It reports every
// violation it finds, so a test can also prove it fails when the database
// has been tampered with.
package checker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/mediationd/mediationd/internal/api"
	"github.com/mediationd/mediationd/internal/casework"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// Options bound and shape a workload. Zero values take the defaults.
type Options struct {
	// Workers is how many goroutines fire actions at once (default 8).
	Workers int
	// Cases is how many cases Setup registers (default 20); a closed case
	// is sometimes replaced by a new one during the run.
	Cases int
	// HotCases is how many of them every worker contends for: half of all
	// actions go to one of these (default 3, negative for none; at most
	// Cases).
	HotCases int
	// Actions bounds the action calls of one Run (default 1000).
	Actions int
	// Duration bounds one Run (default 20s); Run stops at whichever of
	// Actions and Duration comes first.
	Duration time.Duration
	// Seed makes the choices of the workers repeatable (0 = from the clock).
	Seed int64
	// CallTimeout is the deadline of an ordinary call (default 3s). A few
	// calls get a much shorter one on purpose, to leave their outcome
	// unknown.
	CallTimeout time.Duration
	// AutoAssign makes Setup turn on automatic assignment for RegionCode,
	// so that acceptances are followed by assignments the service makes
	// itself. It changes the region for everyone using the database.
	AutoAssign bool
	// Logf, when set, receives progress messages.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Cases <= 0 {
		o.Cases = 20
	}
	switch {
	case o.HotCases < 0:
		o.HotCases = 0
	case o.HotCases == 0:
		o.HotCases = 3
	}
	o.HotCases = min(o.HotCases, o.Cases)
	if o.Actions <= 0 {
		o.Actions = 1000
	}
	if o.Duration <= 0 {
		o.Duration = 20 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = time.Now().UnixNano()
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 3 * time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// The directory entries the workload assigns cases to. Setup creates
// them when they are missing.
const (
	// Organization is the room the workload's cases are assigned to.
	Organization = "organizations/chk-room"
	// RegionCode is the county the workload registers its cases in.
	RegionCode = "621002"
)

// Mediators are the mediators of Organization the workload assigns; there
// are four so that recusals (after which a mediator cannot take the case
// again) do not strand a case for long.
var Mediators = []string{"mediators/chk-m1", "mediators/chk-m2", "mediators/chk-m3", "mediators/chk-m4"}

// Workload is one concurrency-checking run against a service: New, Setup,
// Run (as often as wanted), Resolve, then Record for the verifier.
type Workload struct {
	opts      Options
	token     string
	cases     []mediationv1.CaseServiceClient
	directory []mediationv1.DirectoryServiceClient
	runID     string

	seq     atomic.Int64 // orders calls
	actions atomic.Int64 // action calls of the current Run
	serial  atomic.Int64 // numbers the cases' summaries

	slots []*slot

	mu             sync.Mutex
	rec            Record
	pending        []*invocation                             // actions whose outcome is unknown
	createBodies   map[string]*mediationv1.CreateCaseRequest // every create, by request id
	createSettled  map[string]bool                           // request ids with a definitive answer
	ackedCreateIDs []string
}

// New prepares a workload over conns (one per replica), authenticating
// every call with the bearer token, which must be an administrator's.
func New(conns []*grpc.ClientConn, token string, o Options) (*Workload, error) {
	if len(conns) == 0 {
		return nil, errors.New("checker: no connection to the service")
	}
	if token == "" {
		return nil, errors.New("checker: no bearer token")
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("checker: run id: %w", err)
	}
	w := &Workload{
		opts:          o.withDefaults(),
		token:         token,
		runID:         hex.EncodeToString(b[:]),
		createBodies:  map[string]*mediationv1.CreateCaseRequest{},
		createSettled: map[string]bool{},
	}
	w.rec.RunID = w.runID
	for _, c := range conns {
		w.cases = append(w.cases, mediationv1.NewCaseServiceClient(c))
		w.directory = append(w.directory, mediationv1.NewDirectoryServiceClient(c))
	}
	return w, nil
}

// Options returns the options in effect, defaults filled in.
func (w *Workload) Options() Options { return w.opts }

// RunID returns the id that marks the run's cases.
func (w *Workload) RunID() string { return w.runID }

// Dial connects to each address (host:port, plaintext gRPC) with a short
// reconnection backoff, so that a client notices a restarted replica
// within a second rather than after gRPC's default backoff of up to two
// minutes.
func Dial(addrs []string, opts ...grpc.DialOption) ([]*grpc.ClientConn, error) {
	var conns []*grpc.ClientConn
	for _, a := range addrs {
		all := append([]grpc.DialOption{
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithConnectParams(grpc.ConnectParams{
				Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 500 * time.Millisecond},
				MinConnectTimeout: 2 * time.Second,
			}),
		}, opts...)
		c, err := grpc.NewClient("passthrough:///"+a, all...)
		if err != nil {
			for _, open := range conns {
				open.Close()
			}
			return nil, fmt.Errorf("connect to %s: %w", a, err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// SignIn creates a session for username with AuthService/CreateSession and
// returns its bearer token.
func SignIn(ctx context.Context, conn *grpc.ClientConn, username, password string) (string, error) {
	resp, err := mediationv1.NewAuthServiceClient(conn).CreateSession(ctx,
		&mediationv1.CreateSessionRequest{Username: username, Password: password})
	if err != nil {
		return "", fmt.Errorf("sign in as %s: %w", username, err)
	}
	return resp.GetToken(), nil
}

// Record returns a copy of what the workload has recorded so far.
func (w *Workload) Record() Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Record{RunID: w.rec.RunID, Calls: slices.Clone(w.rec.Calls), Creates: slices.Clone(w.rec.Creates)}
}

func (w *Workload) authed(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+w.token)
}

// Setup makes sure the directory holds Organization and Mediators (and,
// with Options.AutoAssign, that RegionCode assigns automatically), then
// registers Options.Cases cases.
func (w *Workload) Setup(ctx context.Context) error {
	if err := w.ensureDirectory(ctx); err != nil {
		return err
	}
	if w.opts.AutoAssign {
		cctx, cancel := context.WithTimeout(w.authed(ctx), 10*time.Second)
		_, err := w.directory[0].UpdateRegion(cctx, &mediationv1.UpdateRegionRequest{
			Region:     &mediationv1.Region{Name: "regions/" + RegionCode, AutoAssign: true},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"auto_assign"}},
		})
		cancel()
		if err != nil {
			return fmt.Errorf("checker: turn on automatic assignment in %s: %w", RegionCode, err)
		}
	}
	w.slots = make([]*slot, w.opts.Cases)
	for i := range w.slots {
		w.slots[i] = &slot{hot: i < w.opts.HotCases}
	}
	errs := make(chan error, w.opts.Workers)
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for worker := range w.opts.Workers {
		wg.Go(func() {
			rng := w.rng(1000 + worker)
			for {
				i := int(next.Add(1)) - 1
				if i >= len(w.slots) {
					return
				}
				var err error
				for attempt := 0; attempt < 10; attempt++ {
					var name string
					if name, err = w.createCase(ctx, worker, rng); err == nil {
						w.slots[i].reset(name)
						break
					}
					if ctx.Err() != nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if err != nil {
					errs <- fmt.Errorf("register case %d: %w", i+1, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	w.opts.Logf("checker: run %s registered %d cases (%d hot)", w.runID, len(w.slots), w.opts.HotCases)
	return nil
}

func (w *Workload) rng(stream int) *mrand.Rand {
	return mrand.New(mrand.NewPCG(uint64(w.opts.Seed), uint64(stream)))
}

// ensureDirectory creates the organization and mediators the workload
// assigns, unless they exist.
func (w *Workload) ensureDirectory(ctx context.Context) error {
	d := w.directory[0]
	call := func(f func(ctx context.Context) error) error {
		cctx, cancel := context.WithTimeout(w.authed(ctx), 10*time.Second)
		defer cancel()
		return f(cctx)
	}
	err := call(func(ctx context.Context) error {
		_, err := d.GetOrganization(ctx, &mediationv1.GetOrganizationRequest{Name: Organization})
		return err
	})
	if status.Code(err) == codes.NotFound {
		err = call(func(ctx context.Context) error {
			_, err := d.CreateOrganization(ctx, &mediationv1.CreateOrganizationRequest{
				OrganizationId: strings.TrimPrefix(Organization, "organizations/"),
				Organization: &mediationv1.Organization{
					DisplayName: "并发核查调解室",
					Type:        mediationv1.OrganizationType_ORGANIZATION_TYPE_TOWNSHIP_COMMITTEE,
					RegionCode:  RegionCode,
				},
			})
			return err
		})
	}
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("checker: ensure %s: %w", Organization, err)
	}
	for i, m := range Mediators {
		err := call(func(ctx context.Context) error {
			_, err := d.GetMediator(ctx, &mediationv1.GetMediatorRequest{Name: m})
			return err
		})
		if status.Code(err) == codes.NotFound {
			err = call(func(ctx context.Context) error {
				_, err := d.CreateMediator(ctx, &mediationv1.CreateMediatorRequest{
					MediatorId: strings.TrimPrefix(m, "mediators/"),
					Mediator:   &mediationv1.Mediator{DisplayName: fmt.Sprintf("核查调解员%d", i+1), Organization: Organization},
				})
				return err
			})
		}
		if err != nil && status.Code(err) != codes.AlreadyExists {
			return fmt.Errorf("checker: ensure %s: %w", m, err)
		}
	}
	return nil
}

// slot is a place for one case that workers act on; a closed case may be
// replaced by a new one. It caches what the workers last learned of the
// case, which may be stale: that is part of the point.
type slot struct {
	hot bool

	mu        sync.Mutex
	name      string
	state     casework.State
	version   int64
	mediator  string
	sessions  int32
	replacing bool
}

// view is a slot's cached case at one moment.
type view struct {
	name     string
	state    casework.State
	version  int64
	mediator string
	sessions int32
}

func (s *slot) reset(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.name, s.state, s.version, s.mediator, s.sessions, s.replacing = name, casework.StateIntake, 1, "", 0, false
}

func (s *slot) view() view {
	s.mu.Lock()
	defer s.mu.Unlock()
	return view{name: s.name, state: s.state, version: s.version, mediator: s.mediator, sessions: s.sessions}
}

// observe updates the cache from a case the service returned, unless the
// cache already holds a newer version.
func (s *slot) observe(c *mediationv1.Case) {
	v, ok := api.ParseEtag(c.GetEtag())
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.GetName() != s.name || v < s.version {
		return
	}
	s.state = stateFromProto(c.GetState())
	s.version = v
	s.mediator = c.GetMediator()
	s.sessions = c.GetSessionCount()
}

// claimReplacement reports whether the caller should replace the slot's
// closed case; only one worker does.
func (s *slot) claimReplacement(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.name != name || s.state != casework.StateClosed || s.replacing {
		return false
	}
	s.replacing = true
	return true
}

func (s *slot) releaseReplacement() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replacing = false
}

// newCaseRequest is the registration of the run's n-th case.
func (w *Workload) newCaseRequest(n int64) *mediationv1.CreateCaseRequest {
	return &mediationv1.CreateCaseRequest{
		RequestId: uuid.NewString(),
		Case: &mediationv1.Case{
			DisputeType: mediationv1.DisputeType_DISPUTE_TYPE_NEIGHBOR,
			Source:      mediationv1.CaseSource_CASE_SOURCE_WALK_IN,
			Summary:     fmt.Sprintf("%s邻里纠纷 %d", Marker(w.runID), n),
			RegionCode:  RegionCode,
			Parties: []*mediationv1.Party{
				{Id: "p1", Name: "张三", Role: mediationv1.PartyRole_PARTY_ROLE_APPLICANT},
				{Id: "p2", Name: "李四", Role: mediationv1.PartyRole_PARTY_ROLE_RESPONDENT},
			},
		},
	}
}

// createCase registers a new case and returns its name. Some
// registrations are sent twice with the same request id, one after the
// other or at once, to different replicas; some are followed by a
// different registration under the same request id, which must be
// refused.
func (w *Workload) createCase(ctx context.Context, worker int, rng *mrand.Rand) (string, error) {
	req := w.newCaseRequest(w.serial.Add(1))
	w.mu.Lock()
	w.createBodies[req.RequestId] = req
	w.mu.Unlock()

	r := rng.Float64()
	replica := rng.IntN(len(w.cases))
	other := (replica + 1) % len(w.cases)
	var calls []CreateCall
	switch {
	case r < 0.15:
		var wg sync.WaitGroup
		results := make([]CreateCall, 2)
		for i, rep := range []int{replica, other} {
			wg.Go(func() { results[i] = w.sendCreate(ctx, worker, rep, req, true, true, false) })
		}
		wg.Wait()
		calls = results
	case r < 0.30:
		calls = append(calls, w.sendCreate(ctx, worker, replica, req, false, false, false))
		calls = append(calls, w.sendCreate(ctx, worker, other, req, true, false, false))
	default:
		calls = append(calls, w.sendCreate(ctx, worker, replica, req, false, false, false))
	}
	var name string
	var last CreateCall
	for _, c := range calls {
		last = c
		if c.Outcome == Acked && name == "" {
			name = c.Case
		}
	}
	if name == "" {
		return "", fmt.Errorf("CreateCase %s: %s %v: %s", req.RequestId, last.Outcome, last.Code, last.Message)
	}
	if rng.Float64() < 0.05 {
		altered := w.newCaseRequest(w.serial.Add(1))
		altered.RequestId = req.RequestId
		w.sendCreate(ctx, worker, replica, altered, true, false, false)
	}
	return name, nil
}

// sendCreate sends one CreateCase and records it.
func (w *Workload) sendCreate(ctx context.Context, worker, replica int, req *mediationv1.CreateCaseRequest, duplicate, concurrent, resolve bool) CreateCall {
	cctx, cancel := context.WithTimeout(w.authed(ctx), w.opts.CallTimeout)
	defer cancel()
	w.mu.Lock()
	same := w.createBodies[req.RequestId] == req
	w.mu.Unlock()
	c := CreateCall{
		Seq: w.seq.Add(1), Worker: worker, Replica: replica, RequestID: req.RequestId,
		Duplicate: duplicate, Concurrent: concurrent, Altered: !same, Resolve: resolve, Start: time.Now(),
	}
	resp, err := w.cases[replica].CreateCase(cctx, req)
	c.End = time.Now()
	c.Outcome, c.Code, c.Message, c.Reason = classify(err)
	if err == nil {
		c.Case = resp.GetCase().GetName()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rec.Creates = append(w.rec.Creates, c)
	if settles(c.Outcome, c.Code) && same {
		w.createSettled[req.RequestId] = true
	}
	if c.Outcome == Acked && same && !duplicate && !resolve {
		w.ackedCreateIDs = append(w.ackedCreateIDs, req.RequestId)
	}
	return c
}

// Run fires actions from Options.Workers workers until Options.Actions
// calls were made, Options.Duration passed, or ctx ended.
func (w *Workload) Run(ctx context.Context) error {
	if w.slots == nil {
		return errors.New("checker: Run before Setup")
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Duration)
	defer cancel()
	w.actions.Store(0)
	start := time.Now()
	before := len(w.Record().Calls)
	var wg sync.WaitGroup
	for worker := range w.opts.Workers {
		wg.Go(func() { w.work(ctx, worker) })
	}
	wg.Wait()
	w.opts.Logf("checker: run %s made %d action calls in %v", w.runID, len(w.Record().Calls)-before, time.Since(start).Round(time.Millisecond))
	return nil
}

// worker state: the request ids and invocations it used recently, for
// deliberate reuse.
type workerState struct {
	rng      *mrand.Rand
	rids     []string
	recent   []*invocation
	ridsNext int
}

func (ws *workerState) remember(inv *invocation) {
	const keep = 16
	if inv.rid == "" {
		return
	}
	if len(ws.rids) < keep {
		ws.rids = append(ws.rids, inv.rid)
		ws.recent = append(ws.recent, inv)
		return
	}
	ws.rids[ws.ridsNext] = inv.rid
	ws.recent[ws.ridsNext] = inv
	ws.ridsNext = (ws.ridsNext + 1) % keep
}

func (w *Workload) work(ctx context.Context, worker int) {
	ws := &workerState{rng: w.rng(worker)}
	rng := ws.rng
	for ctx.Err() == nil {
		if w.actions.Add(1) > int64(w.opts.Actions) {
			return
		}
		s := w.pick(rng)
		v := s.view()
		if v.state == casework.StateClosed && rng.Float64() < 0.6 && s.claimReplacement(v.name) {
			w.actions.Add(-1) // a registration, not an action
			name, err := w.createCase(ctx, worker, rng)
			if err == nil {
				s.reset(name)
			} else {
				s.releaseReplacement()
				w.pause(ctx)
			}
			continue
		}
		replica := rng.IntN(len(w.cases))
		if rng.Float64() < 0.5 {
			if err := w.refresh(ctx, replica, s, v.name); err != nil {
				w.pause(ctx)
			}
			v = s.view()
		}
		var inv *invocation
		if len(ws.recent) > 0 && rng.Float64() < 0.06 {
			// A client repeating an earlier request exactly.
			inv = ws.recent[rng.IntN(len(ws.recent))]
		} else {
			action := chooseAction(rng, v.state)
			inv = w.request(action, v, chooseEtag(rng, v.version), w.chooseRequestID(ws), rng)
		}
		ws.remember(inv)
		timeout := w.opts.CallTimeout
		if rng.Float64() < 0.04 {
			timeout = 2*time.Millisecond + time.Duration(rng.IntN(30))*time.Millisecond
		}
		call, resp := w.invoke(ctx, worker, replica, inv, timeout, false, false)
		switch call.Outcome {
		case Acked:
			s.observe(resp.GetCase())
		case Unknown:
			if inv.rid != "" {
				w.addPending(inv)
			}
			if call.Code != codes.DeadlineExceeded {
				w.pause(ctx)
			}
			if inv.rid != "" && rng.Float64() < 0.5 {
				w.retry(ctx, worker, rng, s, inv)
			}
		case Refused:
			if call.Code == codes.Unavailable {
				w.pause(ctx) // no writable primary: back off
			}
		}
	}
}

// pause backs off briefly after a failure that suggests the service or
// its database is away, so that workers do not spin.
func (w *Workload) pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(100 * time.Millisecond):
	}
}

// retry repeats an invocation whose outcome is unknown, with its request
// id, as a client would after a timeout, up to twice.
func (w *Workload) retry(ctx context.Context, worker int, rng *mrand.Rand, s *slot, inv *invocation) {
	for attempt := 1; attempt <= 2 && ctx.Err() == nil; attempt++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(attempt*20) * time.Millisecond):
		}
		call, resp := w.invoke(ctx, worker, rng.IntN(len(w.cases)), inv, w.opts.CallTimeout, true, false)
		if call.Outcome == Acked {
			s.observe(resp.GetCase())
		}
		if settles(call.Outcome, call.Code) {
			return
		}
	}
}

func (w *Workload) addPending(inv *invocation) {
	w.mu.Lock()
	defer w.mu.Unlock()
	inv.settled = false
	if !inv.pending {
		inv.pending = true
		w.pending = append(w.pending, inv)
	}
}

// pick chooses a slot: a hot one half of the time.
func (w *Workload) pick(rng *mrand.Rand) *slot {
	hot := w.opts.HotCases
	if hot > 0 && (hot == len(w.slots) || rng.Float64() < 0.5) {
		return w.slots[rng.IntN(hot)]
	}
	return w.slots[hot+rng.IntN(len(w.slots)-hot)]
}

// refresh reads the case of a slot and caches it.
func (w *Workload) refresh(ctx context.Context, replica int, s *slot, name string) error {
	cctx, cancel := context.WithTimeout(w.authed(ctx), w.opts.CallTimeout)
	defer cancel()
	resp, err := w.cases[replica].GetCase(cctx, &mediationv1.GetCaseRequest{Name: name})
	if err != nil {
		return fmt.Errorf("GetCase %s: %w", name, err)
	}
	s.observe(resp.GetCase())
	return nil
}

// invoke makes one action call and records it.
func (w *Workload) invoke(ctx context.Context, worker, replica int, inv *invocation, timeout time.Duration, retry, resolve bool) (Call, caseResponse) {
	cctx, cancel := context.WithTimeout(w.authed(ctx), timeout)
	defer cancel()
	c := Call{
		Seq: w.seq.Add(1), Worker: worker, Replica: replica, Case: inv.caseName, Action: inv.action,
		Method: api.ActionMethod(inv.action), RequestID: inv.rid, Etag: inv.etag, Retry: retry, Resolve: resolve,
		Start: time.Now(),
	}
	resp, err := inv.send(cctx, w.cases[replica])
	c.End = time.Now()
	c.Outcome, c.Code, c.Message, c.Reason = classify(err)
	if err == nil {
		ev := resp.GetEvent()
		if ev == nil {
			c.Message = errNoEvent.Error()
		}
		c.EventVersion = ev.GetVersion()
		c.EventAction = actionFromProto(ev.GetAction())
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rec.Calls = append(w.rec.Calls, c)
	if settles(c.Outcome, c.Code) && inv.pending {
		inv.settled = true
	}
	return c, resp
}

// ResolveStats says what Resolve did.
type ResolveStats struct {
	// Actions and Creates count the requests re-sent.
	Actions int
	Creates int
	// Unresolved counts those still without a definitive answer when ctx
	// ended.
	Unresolved int
}

// Resolve settles what the run left open: after waiting out the call
// deadline (so that nothing the run sent is still being decided), it
// re-sends every action whose outcome is unknown with its request id,
// and every registration whose outcome is unknown, until each gets a
// definitive answer or ctx ends. It also re-sends a third of the
// acknowledged registrations with their request ids: each must return the
// case the first call returned. Call it after Run, for instance after the
// service was restarted.
func (w *Workload) Resolve(ctx context.Context) (ResolveStats, error) {
	var st ResolveStats
	select {
	case <-ctx.Done():
		return st, fmt.Errorf("checker: resolve: %w", ctx.Err())
	case <-time.After(w.opts.CallTimeout + 500*time.Millisecond):
	}
	w.mu.Lock()
	var actions []*invocation
	for _, inv := range w.pending {
		if !inv.settled {
			actions = append(actions, inv)
		}
	}
	var creates []*mediationv1.CreateCaseRequest
	for rid, req := range w.createBodies {
		if !w.createSettled[rid] {
			creates = append(creates, req)
		}
	}
	for i, rid := range w.ackedCreateIDs {
		if i%3 == 0 {
			creates = append(creates, w.createBodies[rid])
		}
	}
	w.mu.Unlock()
	slices.SortFunc(creates, func(a, b *mediationv1.CreateCaseRequest) int { return strings.Compare(a.RequestId, b.RequestId) })

	rng := w.rng(-1)
	for _, inv := range actions {
		st.Actions++
		if !w.untilDefinitive(ctx, func(replica int) bool {
			c, _ := w.invoke(ctx, -1, replica, inv, w.opts.CallTimeout, false, true)
			return settles(c.Outcome, c.Code)
		}, rng) {
			st.Unresolved++
		}
	}
	for _, req := range creates {
		st.Creates++
		if !w.untilDefinitive(ctx, func(replica int) bool {
			c := w.sendCreate(ctx, -1, replica, req, true, false, true)
			return settles(c.Outcome, c.Code)
		}, rng) {
			st.Unresolved++
		}
	}
	w.opts.Logf("checker: run %s resolve: %d actions and %d registrations re-sent, %d unresolved", w.runID, st.Actions, st.Creates, st.Unresolved)
	return st, nil
}

// untilDefinitive repeats send, with backoff, on random replicas until it
// reports an answer that settles the request or ctx ends, and reports
// which.
func (w *Workload) untilDefinitive(ctx context.Context, send func(replica int) bool, rng *mrand.Rand) bool {
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		if send(rng.IntN(len(w.cases))) {
			return true
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
	return false
}

// closing actions end a case; the workers pick them less often, so that
// cases live long enough to see most of the lifecycle.
var closing = []casework.Action{
	casework.ActionReject, casework.ActionWithdraw, casework.ActionRecordFailure, casework.ActionClose, casework.ActionRecuse,
}

// callable lists the actions a client can ask for.
var callable = func() []casework.Action {
	var out []casework.Action
	for _, a := range casework.Actions {
		if !slices.Contains(casework.SystemActions, a) {
			out = append(out, a)
		}
	}
	return out
}()

// chooseAction picks an action for a case believed to be in state: mostly
// one the state allows, sometimes any at all.
func chooseAction(rng *mrand.Rand, state casework.State) casework.Action {
	if rng.Float64() < 0.75 {
		var choices []casework.Action
		for _, a := range casework.AllowedActions(state) {
			if !slices.Contains(casework.SystemActions, a) {
				choices = append(choices, a)
				if !slices.Contains(closing, a) {
					choices = append(choices, a, a, a)
				}
			}
		}
		if len(choices) > 0 {
			return choices[rng.IntN(len(choices))]
		}
	}
	return callable[rng.IntN(len(callable))]
}

// malformedEtags are etags the service never issues.
var malformedEtags = []string{"v0", "bogus", `W/"v1x"`, "v-1", "V1", "v1.5"}

// chooseEtag picks no etag, the cached one, a stale one or a malformed one.
func chooseEtag(rng *mrand.Rand, version int64) string {
	r := rng.Float64()
	switch {
	case r < 0.40 || version <= 0:
		return ""
	case r < 0.75:
		return api.Etag(version)
	case r < 0.90:
		return api.Etag(max(1, version-1-int64(rng.IntN(3))))
	}
	return malformedEtags[rng.IntN(len(malformedEtags))]
}

// chooseRequestID picks a fresh request id, none, or one the worker used
// recently (for another action or case, most likely: the service must
// refuse or treat it per case).
func (w *Workload) chooseRequestID(ws *workerState) string {
	r := ws.rng.Float64()
	switch {
	case r < 0.55:
		return uuid.NewString()
	case r < 0.88 || len(ws.rids) == 0:
		return ""
	}
	return ws.rids[ws.rng.IntN(len(ws.rids))]
}
