// Package server runs mediationd's listeners: gRPC (with reflection and
// the standard health service) and HTTP (the REST gateway, the OpenAPI
// document and the health probes). The gateway calls the services through
// a loopback in the process (loopback.go), so REST calls pass through the
// same interceptors as gRPC calls.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"buf.build/go/protovalidate"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/mediationd/mediationd/internal/api"
	"github.com/mediationd/mediationd/internal/authn"
	"github.com/mediationd/mediationd/internal/caseflow"
	"github.com/mediationd/mediationd/internal/casework"
	"github.com/mediationd/mediationd/internal/delivery"
	"github.com/mediationd/mediationd/internal/metrics"
	"github.com/mediationd/mediationd/internal/store"
	mediationv1 "github.com/mediationd/mediationd/proto/mediation/v1"
)

// Config is what the server needs.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// Authenticator checks bearer credentials; nil = the accounts of the
	// store (authn), the usual choice.
	Authenticator Authenticator
	// AuthOptions tune sessions, caching and sign-in throttling.
	AuthOptions authn.Options
	Clock       api.Clock      // nil = time.Now
	Location    *time.Location // time zone of case-number years and due dates; nil = UTC
	// GroupDisputeApplicants is how many applicants make a dispute 群体性;
	// 0 = casework.DefaultPolicy's.
	GroupDisputeApplicants int
	// OverdueInterval is how often the overdue job runs; 0 = one minute,
	// negative = never (another replica runs it).
	OverdueInterval time.Duration
	// HousekeepingInterval is how often old failed sign-ins and ended
	// sessions are deleted (authn's Housekeep); 0 = one hour, negative =
	// never.
	HousekeepingInterval time.Duration
	// TallyFoldInterval is how often the statistics' deltas are folded
	// into their summary tables; 0 = one second, negative = never (another
	// replica does it).
	TallyFoldInterval time.Duration

	// MaxRequestBytes bounds a request on both listeners; 0 = 4 MiB.
	MaxRequestBytes int
	// ShutdownTimeout bounds the graceful shutdown; 0 = 15s.
	ShutdownTimeout time.Duration
	// ReadinessInterval is how often the health service re-checks the
	// database; 0 = 5s.
	ReadinessInterval time.Duration

	// TLS, when set, serves both listeners over TLS (see LoadTLSConfig);
	// nil = plaintext.
	TLS *tls.Config
	// CORSOrigins are the exact origins (https://host[:port]) whose
	// browser scripts may call the REST API; empty = CORS off.
	CORSOrigins []string
	// RateLimit is how many calls a second each principal (or, before it
	// authenticates, each client address) may make on average, per
	// replica; 0 = no limit. RateBurst is how many it may make at once.
	RateLimit float64
	RateBurst int
	// Metrics tunes the Prometheus metrics and where GET /metrics is served.
	Metrics MetricsOptions
	// Webhooks configures the courts' webhooks.
	Webhooks WebhookOptions
	// ExportMaxRows is the most rows a case list export (GET
	// /v1/cases.xlsx) holds; 0 = DefaultExportMaxRows.
	ExportMaxRows int
}

// Server is one mediationd instance.
type Server struct {
	cfg      Config
	log      *slog.Logger
	grpc     *grpc.Server
	health   *health.Server
	loopback *loopback
	http     http.Handler
	accounts *authn.Authenticator
	flow     *caseflow.Flow
	ready    atomic.Bool
	closing  atomic.Bool
	metrics  *metrics.Metrics
	delivery *delivery.Service
}

// New builds a server; Serve runs it.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 4 << 20
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	if cfg.ReadinessInterval <= 0 {
		cfg.ReadinessInterval = 5 * time.Second
	}
	validator, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("build request validator: %w", err)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.AuthOptions.Logger == nil {
		cfg.AuthOptions.Logger = cfg.Logger
	}
	accounts := authn.New(cfg.Store, cfg.Clock, cfg.AuthOptions)
	if cfg.Authenticator == nil {
		cfg.Authenticator = accounts
	}
	s := &Server{cfg: cfg, log: cfg.Logger, health: health.NewServer(), accounts: accounts, metrics: newMetrics(cfg)}
	codec := newRequestCodec()
	// One chain of interceptors serves both a call from the network and a
	// REST call through the gateway's loopback.
	interceptors := []grpc.UnaryServerInterceptor{
		s.metrics.UnaryServerInterceptor(),
		requestInfo,
		logAndMapErrors(s.log),
		recoverPanics(s.log),
		authenticate(cfg.Authenticator),
		rateLimit(newLimiter(cfg.RateLimit, cfg.RateBurst)),
		// Text the database cannot store is refused before the audit
		// trail, the sign-in or a handler sees it (authentication reads
		// only the bearer credential).
		checkText(codec),
		audit(cfg.Store, cfg.Clock),
		authorize,
		validate(validator),
	}
	s.grpc = grpc.NewServer(
		grpc.MaxRecvMsgSize(cfg.MaxRequestBytes),
		// Serve streams from a pool of workers rather than a goroutine each,
		// and share write buffers: less scheduling and allocation per call.
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))),
		grpc.SharedWriteBuffer(true),
		grpc.Creds(serverCredentials(cfg.TLS)),
		// A request that does not decode (a string that is not UTF-8) is
		// refused by checkText as INVALID_ARGUMENT, not by grpc-go as INTERNAL.
		grpc.ForceServerCodecV2(codec),
		grpc.ChainUnaryInterceptor(interceptors...),
		grpc.ChainStreamInterceptor(checkTextStream(codec), authenticateStream(cfg.Authenticator)),
	)
	s.loopback = newLoopback(s.metrics.GatewayRouteInterceptor(), interceptors...)
	if cfg.TallyFoldInterval == 0 {
		cfg.TallyFoldInterval = time.Second
	}
	if cfg.OverdueInterval == 0 {
		cfg.OverdueInterval = time.Minute
	}
	if cfg.HousekeepingInterval == 0 {
		cfg.HousekeepingInterval = time.Hour
	}
	s.cfg = cfg
	policy := casework.Policy{GroupDisputeApplicants: cfg.GroupDisputeApplicants, Location: cfg.Location}
	s.flow = caseflow.New(cfg.Store, cfg.Clock, policy, s.log)
	cases := api.NewCaseService(s.flow, cfg.Store, s.log)
	directory := api.NewDirectoryService(cfg.Store, cfg.Clock)
	auth := api.NewAuthService(accounts, cfg.Store)
	users := api.NewUserService(cfg.Store, accounts, cfg.Clock)
	audits := api.NewAuditService(cfg.Store)
	s.delivery = s.newDelivery()
	webhooks := api.NewWebhookService(cfg.Store, s.delivery, cfg.Clock)
	feed := api.NewCaseFeedService(cfg.Store, cases)
	for _, r := range []grpc.ServiceRegistrar{s.grpc, s.loopback} {
		mediationv1.RegisterCaseServiceServer(r, cases)
		mediationv1.RegisterDirectoryServiceServer(r, directory)
		mediationv1.RegisterAuthServiceServer(r, auth)
		mediationv1.RegisterUserServiceServer(r, users)
		mediationv1.RegisterAuditServiceServer(r, audits)
		mediationv1.RegisterWebhookServiceServer(r, webhooks)
		mediationv1.RegisterCaseFeedServiceServer(r, feed)
	}
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.setServing(false)

	gw, err := newGateway(ctx, s.loopback)
	if err != nil {
		return nil, err
	}
	s.http = s.httpHandler(gw)
	return s, nil
}

// HTTPHandler is the HTTP side: REST gateway, OpenAPI and probes.
func (s *Server) HTTPHandler() http.Handler { return s.http }

// Serve serves gRPC on grpcLis and HTTP on httpLis until ctx ends, then
// shuts down gracefully: readiness turns false first, HTTP drains, then
// gRPC drains within the shutdown timeout and is stopped after it.
func (s *Server) Serve(ctx context.Context, grpcLis, httpLis net.Listener) error {
	httpSrv := &http.Server{
		Handler:           s.http,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ignoreClosed(s.grpc.Serve(grpcLis)) })
	g.Go(func() error { return ignoreClosed(httpSrv.Serve(s.httpListener(httpLis))) })
	g.Go(func() error { s.watchReadiness(gctx); return nil })
	if s.cfg.OverdueInterval > 0 {
		g.Go(func() error { s.runOverdueJob(gctx); return nil })
	}
	if s.cfg.TallyFoldInterval > 0 {
		g.Go(func() error { s.runTallyFold(gctx); return nil })
	}
	if s.cfg.HousekeepingInterval > 0 {
		g.Go(func() error { s.runHousekeeping(gctx); return nil })
	}
	if s.cfg.Webhooks.Deliver {
		g.Go(func() error { s.delivery.Run(gctx); return nil })
	}
	g.Go(func() error {
		<-gctx.Done()
		s.closing.Store(true)
		s.setServing(false)
		s.log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
		defer cancel()
		if err := httpSrv.Shutdown(sctx); err != nil {
			s.log.Warn("HTTP shutdown incomplete", "error", err)
			_ = httpSrv.Close()
		}
		stopped := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-sctx.Done():
			s.log.Warn("gRPC graceful stop timed out; stopping")
			s.grpc.Stop()
		}
		s.accounts.Close()
		return nil
	})
	s.log.Info("serving", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String())
	return g.Wait()
}

func ignoreClosed(err error) error {
	if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Ready reports whether the service can do its work: the database answers
// and its schema is the one this binary expects.
func (s *Server) Ready(ctx context.Context) error {
	if s.closing.Load() {
		return errors.New("shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := s.cfg.Store.CheckSchema(ctx)
	if err != nil && !errors.Is(err, store.ErrSchemaBehind) && !errors.Is(err, store.ErrSchemaAhead) {
		return fmt.Errorf("database unreachable: %w", err)
	}
	return err
}

func (s *Server) watchReadiness(ctx context.Context) {
	var lastReason string
	check := func() {
		err := s.Ready(ctx)
		if ctx.Err() != nil {
			return
		}
		was := s.ready.Load()
		s.setServing(err == nil)
		switch {
		case err != nil && err.Error() != lastReason:
			// Said once per reason, not at every check.
			lastReason = err.Error()
			s.log.Warn("not ready", "reason", lastReason)
		case err == nil && !was:
			lastReason = ""
			s.log.Info("ready")
		}
	}
	check()
	t := time.NewTicker(s.cfg.ReadinessInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}

func (s *Server) setServing(ok bool) {
	s.ready.Store(ok)
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(mediationv1.CaseService_ServiceDesc.ServiceName, st)
}

// overdueBatch is how many cases one statement of the overdue job marks.
const overdueBatch = 500

// runOverdueJob marks cases past their due time as overdue, every
// OverdueInterval until ctx ends. Replicas may all run it: the store skips
// cases another run holds, so each case is marked once.
func (s *Server) runOverdueJob(ctx context.Context) {
	t := time.NewTicker(s.cfg.OverdueInterval)
	defer t.Stop()
	for {
		if _, err := s.MarkOverdue(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("overdue job", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tallyFoldBatch is how many deltas of the statistics' summaries one
// transaction folds.
const tallyFoldBatch = 20000

// runTallyFold folds the statistics' deltas into their summary tables
// every TallyFoldInterval until ctx ends, in batches until none are left.
// Replicas may all run it: one folds at a time, the others skip.
func (s *Server) runTallyFold(ctx context.Context) {
	t := time.NewTicker(s.cfg.TallyFoldInterval)
	defer t.Stop()
	for {
		for {
			n, err := s.cfg.Store.FoldCaseTallies(ctx, tallyFoldBatch)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("fold statistics' deltas", "error", err.Error())
			}
			if err != nil || n < tallyFoldBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runHousekeeping deletes failed sign-ins past the throttling window and
// long-ended sessions, at the start and every HousekeepingInterval until
// ctx ends. Replicas may all run it: the deletions are idempotent.
func (s *Server) runHousekeeping(ctx context.Context) {
	t := time.NewTicker(s.cfg.HousekeepingInterval)
	defer t.Stop()
	for {
		failures, sessions, err := s.accounts.Housekeep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("housekeeping", "error", err.Error())
		case failures+sessions > 0:
			s.log.Info("housekeeping", "failed_sign_ins_deleted", failures, "ended_sessions_deleted", sessions)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MarkOverdue runs the overdue job once, at the server's clock, and
// returns how many cases it marked.
func (s *Server) MarkOverdue(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.flow.MarkOverdue(ctx, s.cfg.Clock().UTC(), overdueBatch)
		total += n
		if err != nil || n < overdueBatch {
			s.metrics.ObserveOverdueRun(total, err)
			if total > 0 {
				s.log.Info("marked overdue cases", "count", total)
			}
			return total, err
		}
	}
}
