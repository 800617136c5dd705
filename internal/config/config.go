// Package config reads mediationd's settings from flags, falling back to
// environment variables, then to defaults (twelve-factor style). Secrets
// are never printed.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mediationd/mediationd/internal/reqinfo"
)

// Config is the service's configuration.
type Config struct {
	DatabaseURL string
	GRPCAddr    string
	HTTPAddr    string
	DataDir     string
	PGBin       string
	// PgBackRestStanza, when set, makes the private cluster archive its
	// WAL to this pgBackRest stanza; PgBackRestConfig is pgBackRest's
	// configuration file (empty = its default).
	PgBackRestStanza string
	PgBackRestConfig string
	Migrate          bool
	LogFormat        string
	LogLevel         string
	TimeZone         string
	ShutdownTimeout  time.Duration
	DBMaxConns       int
	MaxRequestBytes  int
	// OverdueInterval is how often the overdue job runs; 0 = never.
	OverdueInterval time.Duration
	// TallyFoldInterval is how often the statistics' deltas are folded
	// into their summary tables; 0 = never (another replica does it).
	TallyFoldInterval time.Duration
	// GroupDisputeApplicants is how many applicants make a dispute 群体性.
	GroupDisputeApplicants int
	// DebugAddr, when set, serves pprof and the metrics on a separate
	// listener (and the HTTP listener stops serving /metrics).
	DebugAddr string

	// TLSCert and TLSKey are PEM files of the listeners' certificate chain
	// and key: both set, or neither (plaintext).
	TLSCert, TLSKey string
	// TLSClientCA is a PEM bundle of the CAs whose client certificates
	// the listeners verify when presented; empty = none asked for.
	TLSClientCA string
	// CORSOrigins are the origins allowed to call the REST API from a
	// browser, lower-cased; nil = CORS off.
	CORSOrigins []string
	// RateLimit is each principal's calls a second per replica; 0 = off.
	RateLimit float64
	// RateBurst is how many calls a principal may make at once.
	RateBurst int
	// ExportMaxRows is the most rows a case list export holds.
	ExportMaxRows int
	// Webhooks configures the courts' webhooks.
	Webhooks Webhooks
}

// Setting documents one setting: its flag, its variable and its default.
type Setting struct {
	Flag, Env, Default, Usage string
}

// Settings lists every setting, for flags, `mediationd help` and the README.
func Settings() []Setting {
	return append([]Setting{
		{"database-url", "DATABASE_URL", "", "PostgreSQL URL; empty = run a private PostgreSQL cluster in the data directory"},
		{"grpc-addr", "MEDIATION_GRPC_ADDR", ":9090", "gRPC listen address"},
		{"http-addr", "MEDIATION_HTTP_ADDR", ":8080", "HTTP listen address (REST, OpenAPI, probes)"},
		{"data-dir", "MEDIATION_DATA_DIR", DefaultDataDir(), "data directory, holding the private PostgreSQL cluster"},
		{"pg-bin", "MEDIATION_PG_BIN", "", "directory of the PostgreSQL server binaries; empty = PATH, then /usr/lib/postgresql/*/bin"},
		{"pgbackrest-stanza", "MEDIATION_PGBACKREST_STANZA", "", "private cluster only: archive its WAL to this pgBackRest stanza, for backups restorable to any point in time (deploy/pgbackrest/); empty = no archiving"},
		{"pgbackrest-config", "MEDIATION_PGBACKREST_CONFIG", "", "pgBackRest's configuration file, for pgbackrest-stanza; empty = /etc/pgbackrest/pgbackrest.conf"},
		{"migrate", "MEDIATION_MIGRATE", "false", "apply pending migrations at start (always done for the private cluster)"},
		{"log-format", "MEDIATION_LOG_FORMAT", "auto", "log format: json, text, or auto (text on a terminal, JSON otherwise)"},
		{"log-level", "MEDIATION_LOG_LEVEL", "info", "log level: debug (every call), info, warn or error"},
		{"timezone", "MEDIATION_TIMEZONE", "Asia/Shanghai", "time zone (IANA name) of case-number years, due dates and statistics by month"},
		{"shutdown-timeout", "MEDIATION_SHUTDOWN_TIMEOUT", "15s", "how long a graceful shutdown may take"},
		{"db-max-conns", "MEDIATION_DB_MAX_CONNS", "0", "database connection pool size; 0 = max(4, CPUs)"},
		{"max-request-bytes", "MEDIATION_MAX_REQUEST_BYTES", "4194304", "largest request accepted on either listener"},
		{"overdue-interval", "MEDIATION_OVERDUE_INTERVAL", "1m", "how often to mark cases past their due time as overdue; 0 = never (another replica does it)"},
		{"tally-fold-interval", "MEDIATION_TALLY_FOLD_INTERVAL", "1s", "how often to fold the statistics' deltas into their summary tables; 0 = never (another replica does it)"},
		{"export-max-rows", "MEDIATION_EXPORT_MAX_ROWS", "1000000", "the most cases one Excel export of the case list holds (Excel's own limit is 1048575 rows)"},
		{"group-dispute-applicants", "MEDIATION_GROUP_DISPUTE_APPLICANTS", "5", "how many applicants make a dispute 群体性 (group dispute)"},
		{"debug-addr", "MEDIATION_DEBUG_ADDR", "", "listen address for /debug/pprof and /metrics (e.g. 127.0.0.1:6060); empty = /metrics on the HTTP listener, no pprof"},
		{"tls-cert", "MEDIATION_TLS_CERT", "", "PEM certificate chain for TLS on both listeners (with tls-key); empty = plaintext"},
		{"tls-key", "MEDIATION_TLS_KEY", "", "PEM private key of tls-cert"},
		{"tls-client-ca", "MEDIATION_TLS_CLIENT_CA", "", "PEM bundle of CAs whose client certificates are verified when presented (court systems); empty = none asked for"},
		{"cors-origins", "MEDIATION_CORS_ORIGINS", "", "comma-separated origins (https://host[:port]) whose browser scripts may call the REST API; empty = CORS off"},
		{"rate-limit", "MEDIATION_RATE_LIMIT", "50", "calls a second each user, API key or unauthenticated address may make, per replica; 0 = no limit"},
		{"rate-burst", "MEDIATION_RATE_BURST", "100", "how many calls a caller may make at once above rate-limit"},
	}, webhookSettings()...)
}

// DefaultDataDir is /var/lib/mediationd for root (the unprivileged
// PostgreSQL account must be able to reach it), else the user's data
// directory.
func DefaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/mediationd"
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "mediationd")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "mediationd")
	}
	return "mediationd-data"
}

// Parse reads the configuration from args and the environment.
func Parse(name string, args []string, getenv func(string) string, out io.Writer) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	values := map[string]*string{}
	for _, s := range Settings() {
		def := s.Default
		if v := getenv(s.Env); v != "" {
			def = v
		}
		v := def
		values[s.Flag] = &v
		if s.Flag == "migrate" {
			// A switch: --migrate alone means true.
			fs.Var(boolString{&v}, s.Flag, s.Usage+" (env "+s.Env+")")
			continue
		}
		fs.StringVar(&v, s.Flag, def, s.Usage+" (env "+s.Env+")")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	v := func(f string) string { return strings.TrimSpace(*values[f]) }
	c := Config{
		DatabaseURL: v("database-url"),
		GRPCAddr:    v("grpc-addr"),
		HTTPAddr:    v("http-addr"),
		DataDir:     v("data-dir"),
		PGBin:       v("pg-bin"),

		PgBackRestStanza: v("pgbackrest-stanza"),
		PgBackRestConfig: v("pgbackrest-config"),

		LogFormat: v("log-format"),
		LogLevel:  v("log-level"),
		DebugAddr: v("debug-addr"),
		TimeZone:  v("timezone"),
	}
	var err error
	if c.Migrate, err = strconv.ParseBool(v("migrate")); err != nil {
		return Config{}, fmt.Errorf("migrate / MEDIATION_MIGRATE: %q is not true or false", v("migrate"))
	}
	if c.ShutdownTimeout, err = time.ParseDuration(v("shutdown-timeout")); err != nil || c.ShutdownTimeout <= 0 {
		return Config{}, fmt.Errorf("shutdown-timeout / MEDIATION_SHUTDOWN_TIMEOUT: %q is not a positive duration such as 15s", v("shutdown-timeout"))
	}
	if c.DBMaxConns, err = strconv.Atoi(v("db-max-conns")); err != nil || c.DBMaxConns < 0 {
		return Config{}, fmt.Errorf("db-max-conns / MEDIATION_DB_MAX_CONNS: %q is not a number ≥ 0", v("db-max-conns"))
	}
	if c.MaxRequestBytes, err = strconv.Atoi(v("max-request-bytes")); err != nil || c.MaxRequestBytes < 1024 {
		return Config{}, fmt.Errorf("max-request-bytes / MEDIATION_MAX_REQUEST_BYTES: %q is not a number ≥ 1024", v("max-request-bytes"))
	}
	if c.OverdueInterval, err = time.ParseDuration(v("overdue-interval")); err != nil || c.OverdueInterval < 0 {
		return Config{}, fmt.Errorf("overdue-interval / MEDIATION_OVERDUE_INTERVAL: %q is not a duration such as 1m (0 = never)", v("overdue-interval"))
	}
	if c.TallyFoldInterval, err = time.ParseDuration(v("tally-fold-interval")); err != nil || c.TallyFoldInterval < 0 {
		return Config{}, fmt.Errorf("tally-fold-interval / MEDIATION_TALLY_FOLD_INTERVAL: %q is not a duration such as 1s (0 = never)", v("tally-fold-interval"))
	}
	if c.ExportMaxRows, err = strconv.Atoi(v("export-max-rows")); err != nil || c.ExportMaxRows < 1 || c.ExportMaxRows > 1048575 {
		return Config{}, fmt.Errorf("export-max-rows / MEDIATION_EXPORT_MAX_ROWS: %q is not a number from 1 to 1048575 (the rows of an Excel sheet, less its heading)", v("export-max-rows"))
	}
	if c.GroupDisputeApplicants, err = strconv.Atoi(v("group-dispute-applicants")); err != nil || c.GroupDisputeApplicants < 2 {
		return Config{}, fmt.Errorf("group-dispute-applicants / MEDIATION_GROUP_DISPUTE_APPLICANTS: %q is not a number ≥ 2", v("group-dispute-applicants"))
	}
	if err := c.parseTransport(v); err != nil {
		return Config{}, err
	}
	if err := c.parseWebhooks(v); err != nil {
		return Config{}, err
	}
	switch c.LogFormat {
	case "auto", "json", "text":
	default:
		return Config{}, fmt.Errorf("log-format / MEDIATION_LOG_FORMAT: %q is not json, text or auto", c.LogFormat)
	}
	if _, err := c.Level(); err != nil {
		return Config{}, err
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return Config{}, fmt.Errorf("timezone / MEDIATION_TIMEZONE: %q is not a time zone such as Asia/Shanghai", c.TimeZone)
	}
	if c.TimeZone == "Local" {
		// The database groups dates by zone name (statistics by month) and
		// knows no "Local".
		return Config{}, fmt.Errorf("timezone / MEDIATION_TIMEZONE: %q is the machine's zone, which PostgreSQL cannot name: give its IANA name, such as Asia/Shanghai", c.TimeZone)
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		return Config{}, fmt.Errorf("data-dir / MEDIATION_DATA_DIR: needed when DATABASE_URL is empty")
	}
	if err := c.parseBackup(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// parseBackup checks the pgBackRest settings of the private cluster.
func (c *Config) parseBackup() error {
	if c.PgBackRestStanza == "" {
		if c.PgBackRestConfig != "" {
			return errors.New("pgbackrest-config / MEDIATION_PGBACKREST_CONFIG: set without pgbackrest-stanza / MEDIATION_PGBACKREST_STANZA, which turns archiving on")
		}
		return nil
	}
	if c.DatabaseURL != "" {
		return errors.New("pgbackrest-stanza / MEDIATION_PGBACKREST_STANZA: applies to the private cluster only, and DATABASE_URL is set; " +
			"configure archive_command on that server instead (deploy/pgbackrest/ has the settings for a Patroni cluster)")
	}
	for _, r := range c.PgBackRestStanza {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("pgbackrest-stanza / MEDIATION_PGBACKREST_STANZA: %q is not a stanza name (letters, digits, '-', '_' and '.'), such as mediationd", c.PgBackRestStanza)
		}
	}
	if c.PgBackRestConfig != "" && !filepath.IsAbs(c.PgBackRestConfig) {
		return fmt.Errorf("pgbackrest-config / MEDIATION_PGBACKREST_CONFIG: %q is not an absolute path; PostgreSQL runs the archive command from another directory", c.PgBackRestConfig)
	}
	return nil
}

// parseTransport reads the TLS, CORS and rate-limit settings through v.
func (c *Config) parseTransport(v func(string) string) error {
	c.TLSCert, c.TLSKey, c.TLSClientCA = v("tls-cert"), v("tls-key"), v("tls-client-ca")
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls-cert / MEDIATION_TLS_CERT and tls-key / MEDIATION_TLS_KEY: set both (TLS) or neither (plaintext)")
	}
	if c.TLSClientCA != "" && c.TLSCert == "" {
		return errors.New("tls-client-ca / MEDIATION_TLS_CLIENT_CA: needs tls-cert / MEDIATION_TLS_CERT and tls-key / MEDIATION_TLS_KEY")
	}
	for o := range strings.SplitSeq(v("cors-origins"), ",") {
		if o = strings.ToLower(strings.TrimSpace(o)); o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Scheme+"://"+u.Host != o {
			return fmt.Errorf("cors-origins / MEDIATION_CORS_ORIGINS: %q is not an origin such as https://mediation.example.gov.cn (scheme, host and port only; * is not allowed)", o)
		}
		c.CORSOrigins = append(c.CORSOrigins, o)
	}
	var err error
	if c.RateLimit, err = strconv.ParseFloat(v("rate-limit"), 64); err != nil || !(c.RateLimit >= 0) || math.IsInf(c.RateLimit, 0) {
		return fmt.Errorf("rate-limit / MEDIATION_RATE_LIMIT: %q is not a number of calls a second ≥ 0 (0 = no limit)", v("rate-limit"))
	}
	if c.RateBurst, err = strconv.Atoi(v("rate-burst")); err != nil || c.RateBurst < 0 || (c.RateBurst == 0 && c.RateLimit > 0) {
		return fmt.Errorf("rate-burst / MEDIATION_RATE_BURST: %q is not a number ≥ 1 (0 only with rate-limit / MEDIATION_RATE_LIMIT 0)", v("rate-burst"))
	}
	return nil
}

// boolString is a flag that may be given alone (--migrate) or with a value
// (--migrate=false); the value is checked with the other settings.
type boolString struct{ v *string }

func (b boolString) String() string {
	if b.v == nil {
		return ""
	}
	return *b.v
}

func (b boolString) Set(s string) error { *b.v = s; return nil }

func (b boolString) IsBoolFlag() bool { return true }

// Level returns the slog level of LogLevel.
func (c Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("log-level / MEDIATION_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// Location returns the configured time zone.
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Logger builds the service's logger writing to w.
func (c Config) Logger(w *os.File) *slog.Logger {
	level, _ := c.Level()
	opts := &slog.HandlerOptions{Level: level}
	format := c.LogFormat
	if format == "auto" {
		format = "json"
		if fi, err := w.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			format = "text"
		}
	}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(reqinfo.LogHandler(h))
}
