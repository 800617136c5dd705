package config_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mediationd/mediationd/internal/config"
)

// env returns a getenv function over vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// defaults is the configuration with no flags and no environment.
func defaults() config.Config {
	return config.Config{
		GRPCAddr:          ":9090",
		HTTPAddr:          ":8080",
		DataDir:           config.DefaultDataDir(),
		LogFormat:         "auto",
		LogLevel:          "info",
		TimeZone:          "Asia/Shanghai",
		ShutdownTimeout:   15 * time.Second,
		MaxRequestBytes:   4 << 20,
		OverdueInterval:   time.Minute,
		TallyFoldInterval: time.Second,
		ExportMaxRows:     1000000,

		GroupDisputeApplicants: 5,
		RateLimit:              50,
		RateBurst:              100,
		Webhooks: config.Webhooks{
			RetrySchedule: []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour},
			Deliver:       true,
			Workers:       8,
			Retention:     168 * time.Hour,
			Timeout:       10 * time.Second,
			Lease:         30 * time.Second,
		},
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		// change turns the defaults into the expected configuration.
		change func(*config.Config)
	}{
		{name: "defaults", change: func(*config.Config) {}},
		{
			name: "environment",
			env: map[string]string{
				"DATABASE_URL":                "postgres://db.example/mediation",
				"MEDIATION_GRPC_ADDR":         "127.0.0.1:19090",
				"MEDIATION_HTTP_ADDR":         "127.0.0.1:18080",
				"MEDIATION_DATA_DIR":          "/srv/mediationd",
				"MEDIATION_PG_BIN":            "/opt/pg/bin",
				"MEDIATION_MIGRATE":           "true",
				"MEDIATION_LOG_FORMAT":        "text",
				"MEDIATION_LOG_LEVEL":         "debug",
				"MEDIATION_TIMEZONE":          "UTC",
				"MEDIATION_SHUTDOWN_TIMEOUT":  "3s",
				"MEDIATION_DB_MAX_CONNS":      "7",
				"MEDIATION_MAX_REQUEST_BYTES": "2048",
			},
			change: func(c *config.Config) {
				*c = config.Config{
					DatabaseURL:     "postgres://db.example/mediation",
					GRPCAddr:        "127.0.0.1:19090",
					HTTPAddr:        "127.0.0.1:18080",
					DataDir:         "/srv/mediationd",
					PGBin:           "/opt/pg/bin",
					Migrate:         true,
					LogFormat:       "text",
					LogLevel:        "debug",
					TimeZone:        "UTC",
					ShutdownTimeout: 3 * time.Second,
					DBMaxConns:      7,
					MaxRequestBytes: 2048, OverdueInterval: time.Minute, TallyFoldInterval: time.Second, ExportMaxRows: 1000000, GroupDisputeApplicants: 5,
					RateLimit: 50, RateBurst: 100, Webhooks: defaults().Webhooks,
				}
			},
		},
		{
			name: "flags",
			args: []string{
				"--database-url=postgres://db.example/mediation",
				"--grpc-addr", "127.0.0.1:19090",
				"--http-addr=127.0.0.1:18080",
				"-data-dir=/srv/mediationd",
				"--pg-bin=/opt/pg/bin",
				"--migrate=1",
				"--log-format=json",
				"--log-level=warn",
				"--timezone=Europe/Berlin",
				"--shutdown-timeout=1m",
				"--db-max-conns=12",
				"--max-request-bytes=1024",
			},
			change: func(c *config.Config) {
				*c = config.Config{
					DatabaseURL:     "postgres://db.example/mediation",
					GRPCAddr:        "127.0.0.1:19090",
					HTTPAddr:        "127.0.0.1:18080",
					DataDir:         "/srv/mediationd",
					PGBin:           "/opt/pg/bin",
					Migrate:         true,
					LogFormat:       "json",
					LogLevel:        "warn",
					TimeZone:        "Europe/Berlin",
					ShutdownTimeout: time.Minute,
					DBMaxConns:      12,
					MaxRequestBytes: 1024, OverdueInterval: time.Minute, TallyFoldInterval: time.Second, ExportMaxRows: 1000000, GroupDisputeApplicants: 5,
					RateLimit: 50, RateBurst: 100, Webhooks: defaults().Webhooks,
				}
			},
		},
		{
			name: "flag beats environment",
			args: []string{"--http-addr=127.0.0.1:2", "--migrate=false", "--log-level=error", "--shutdown-timeout=2s"},
			env: map[string]string{
				"MEDIATION_HTTP_ADDR":        "127.0.0.1:1",
				"MEDIATION_MIGRATE":          "true",
				"MEDIATION_LOG_LEVEL":        "debug",
				"MEDIATION_SHUTDOWN_TIMEOUT": "9s",
				"MEDIATION_TIMEZONE":         "UTC",
			},
			change: func(c *config.Config) {
				c.HTTPAddr = "127.0.0.1:2"
				c.LogLevel = "error"
				c.ShutdownTimeout = 2 * time.Second
				c.TimeZone = "UTC"
			},
		},
		{
			name:   "empty variable means unset",
			env:    map[string]string{"MEDIATION_GRPC_ADDR": "", "MEDIATION_TIMEZONE": ""},
			change: func(*config.Config) {},
		},
		{
			name:   "surrounding space is ignored",
			env:    map[string]string{"MEDIATION_LOG_FORMAT": " json ", "MEDIATION_DB_MAX_CONNS": " 3\n"},
			change: func(c *config.Config) { c.LogFormat, c.DBMaxConns = "json", 3 },
		},
		{
			name: "transport from the environment",
			env: map[string]string{
				"MEDIATION_TLS_CERT":      "/etc/mediationd/tls.crt",
				"MEDIATION_TLS_KEY":       "/etc/mediationd/tls.key",
				"MEDIATION_TLS_CLIENT_CA": "/etc/mediationd/courts.pem",
				"MEDIATION_CORS_ORIGINS":  " https://Mediation.example.gov.cn, http://localhost:5173 ,",
				"MEDIATION_RATE_LIMIT":    "2.5",
				"MEDIATION_RATE_BURST":    "7",
			},
			change: func(c *config.Config) {
				c.TLSCert, c.TLSKey, c.TLSClientCA = "/etc/mediationd/tls.crt", "/etc/mediationd/tls.key", "/etc/mediationd/courts.pem"
				c.CORSOrigins = []string{"https://mediation.example.gov.cn", "http://localhost:5173"}
				c.RateLimit, c.RateBurst = 2.5, 7
			},
		},
		{
			name: "transport flags",
			args: []string{
				"--tls-cert=a.crt", "--tls-key=a.key", "--cors-origins=https://[::1]:8443",
				"--rate-limit=0", "--rate-burst=0",
			},
			env: map[string]string{"MEDIATION_RATE_LIMIT": "9", "MEDIATION_CORS_ORIGINS": "https://other.example"},
			change: func(c *config.Config) {
				c.TLSCert, c.TLSKey = "a.crt", "a.key"
				c.CORSOrigins = []string{"https://[::1]:8443"}
				c.RateLimit, c.RateBurst = 0, 0
			},
		},
		{
			name:   "no data directory needed with a database URL",
			args:   []string{"--data-dir="},
			env:    map[string]string{"DATABASE_URL": "postgres://db.example/mediation"},
			change: func(c *config.Config) { c.DataDir, c.DatabaseURL = "", "postgres://db.example/mediation" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := config.Parse("mediationd", tt.args, env(tt.env), &out)
			if err != nil {
				t.Fatalf("Parse(%q) with %v: %v\n%s", tt.args, tt.env, err, out.String())
			}
			want := defaults()
			tt.change(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%q) with %v:\n got %+v\nwant %+v", tt.args, tt.env, got, want)
			}
			if out.Len() > 0 {
				t.Errorf("Parse wrote %q for a valid configuration", out.String())
			}
		})
	}
}

// TestSettingsDefaults checks that the documented defaults are the ones
// Parse applies, so `mediationd help` does not mislead.
func TestSettingsDefaults(t *testing.T) {
	got, err := config.Parse("mediationd", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := defaults(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse with nothing set:\n got %+v\nwant %+v", got, want)
	}
	var args []string
	for _, s := range config.Settings() {
		args = append(args, "--"+s.Flag+"="+s.Default)
	}
	fromDocs, err := config.Parse("mediationd", args, env(nil), io.Discard)
	if err != nil {
		t.Fatalf("Parse(%q), the documented defaults: %v", args, err)
	}
	if !reflect.DeepEqual(fromDocs, got) {
		t.Errorf("documented defaults give\n%+v\nbut the defaults are\n%+v", fromDocs, got)
	}
	seen := map[string]bool{}
	for _, s := range config.Settings() {
		if s.Flag == "" || s.Env == "" || s.Usage == "" {
			t.Errorf("setting %+v is incompletely documented", s)
		}
		if seen[s.Flag] || seen[s.Env] {
			t.Errorf("setting %+v repeats a flag or variable", s)
		}
		seen[s.Flag], seen[s.Env] = true, true
	}
}

func TestParseRefusesInvalidValues(t *testing.T) {
	tests := []struct {
		flag, env, value string
	}{
		{"migrate", "MEDIATION_MIGRATE", "maybe"},
		{"shutdown-timeout", "MEDIATION_SHUTDOWN_TIMEOUT", "soon"},
		{"shutdown-timeout", "MEDIATION_SHUTDOWN_TIMEOUT", "15"},
		{"shutdown-timeout", "MEDIATION_SHUTDOWN_TIMEOUT", "0s"},
		{"shutdown-timeout", "MEDIATION_SHUTDOWN_TIMEOUT", "-1s"},
		{"db-max-conns", "MEDIATION_DB_MAX_CONNS", "many"},
		{"db-max-conns", "MEDIATION_DB_MAX_CONNS", "-1"},
		{"max-request-bytes", "MEDIATION_MAX_REQUEST_BYTES", "4MiB"},
		{"max-request-bytes", "MEDIATION_MAX_REQUEST_BYTES", "1023"},
		{"log-format", "MEDIATION_LOG_FORMAT", "xml"},
		{"log-level", "MEDIATION_LOG_LEVEL", "loud"},
		{"timezone", "MEDIATION_TIMEZONE", "Mars/Olympus"},
		{"timezone", "MEDIATION_TIMEZONE", "Local"},
		{"cors-origins", "MEDIATION_CORS_ORIGINS", "*"},
		{"cors-origins", "MEDIATION_CORS_ORIGINS", "mediation.example.gov.cn"},
		{"cors-origins", "MEDIATION_CORS_ORIGINS", "https://mediation.example.gov.cn/"},
		{"cors-origins", "MEDIATION_CORS_ORIGINS", "https://mediation.example.gov.cn/app"},
		{"cors-origins", "MEDIATION_CORS_ORIGINS", "ftp://mediation.example.gov.cn"},
		{"rate-limit", "MEDIATION_RATE_LIMIT", "fast"},
		{"rate-limit", "MEDIATION_RATE_LIMIT", "-1"},
		{"rate-limit", "MEDIATION_RATE_LIMIT", "NaN"},
		{"rate-limit", "MEDIATION_RATE_LIMIT", "Inf"},
		{"rate-burst", "MEDIATION_RATE_BURST", "many"},
		{"rate-burst", "MEDIATION_RATE_BURST", "-1"},
		{"rate-burst", "MEDIATION_RATE_BURST", "0"},
		{"webhook-allowed-networks", "MEDIATION_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0"},
		{"webhook-retry-schedule", "MEDIATION_WEBHOOK_RETRY_SCHEDULE", "soon"},
		{"webhook-retry-schedule", "MEDIATION_WEBHOOK_RETRY_SCHEDULE", "0s"},
		{"webhook-delivery", "MEDIATION_WEBHOOK_DELIVERY", "maybe"},
		{"webhook-workers", "MEDIATION_WEBHOOK_WORKERS", "0"},
		{"webhook-retention", "MEDIATION_WEBHOOK_RETENTION", "1m"},
		{"webhook-timeout", "MEDIATION_WEBHOOK_TIMEOUT", "0s"},
		{"webhook-lease", "MEDIATION_WEBHOOK_LEASE", "5s"},
	}
	for _, tt := range tests {
		check := func(t *testing.T, args []string, vars map[string]string) {
			t.Helper()
			got, err := config.Parse("mediationd", args, env(vars), io.Discard)
			if err == nil {
				t.Fatalf("Parse(%q) with %v = %+v, want an error", args, vars, got)
			}
			for _, want := range []string{tt.flag, tt.env, tt.value} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Parse(%q) with %v: error %q does not mention %q", args, vars, err, want)
				}
			}
		}
		t.Run(tt.flag+"="+tt.value, func(t *testing.T) {
			t.Run("flag", func(t *testing.T) {
				check(t, []string{"--" + tt.flag + "=" + tt.value}, nil)
			})
			t.Run("env", func(t *testing.T) {
				check(t, nil, map[string]string{tt.env: tt.value})
			})
			t.Run("flag beats a valid env", func(t *testing.T) {
				var def string
				for _, s := range config.Settings() {
					if s.Flag == tt.flag {
						def = s.Default
					}
				}
				check(t, []string{"--" + tt.flag + "=" + tt.value}, map[string]string{tt.env: def})
			})
		})
	}
}

// TestParseRefusesHalfTLS: a certificate without its key, or the reverse,
// or a client CA without either, is refused naming the settings involved.
func TestParseRefusesHalfTLS(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"cert without key", []string{"--tls-cert=a.crt"}, nil,
			[]string{"tls-cert", "MEDIATION_TLS_CERT", "tls-key", "MEDIATION_TLS_KEY"}},
		{"key without cert", nil, map[string]string{"MEDIATION_TLS_KEY": "a.key"},
			[]string{"tls-cert", "MEDIATION_TLS_CERT", "tls-key", "MEDIATION_TLS_KEY"}},
		{"flag empties the environment's key", []string{"--tls-key="}, map[string]string{"MEDIATION_TLS_CERT": "a.crt", "MEDIATION_TLS_KEY": "a.key"},
			[]string{"tls-cert", "MEDIATION_TLS_CERT", "tls-key", "MEDIATION_TLS_KEY"}},
		{"client CA without a certificate", []string{"--tls-client-ca=courts.pem"}, nil,
			[]string{"tls-client-ca", "MEDIATION_TLS_CLIENT_CA", "MEDIATION_TLS_CERT", "MEDIATION_TLS_KEY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.Parse("mediationd", tt.args, env(tt.env), io.Discard)
			if err == nil {
				t.Fatalf("Parse(%q) with %v = %+v, want an error", tt.args, tt.env, got)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Parse(%q) with %v: error %q does not mention %q", tt.args, tt.env, err, want)
				}
			}
		})
	}
}

// TestParseBackupSettings: the pgBackRest settings are taken for the
// private cluster, and refused with a message naming them when the stanza
// is not a stanza name, the configuration file is relative, only the file
// is given, or DATABASE_URL says there is no private cluster.
func TestParseBackupSettings(t *testing.T) {
	got, err := config.Parse("mediationd", []string{"--pgbackrest-stanza=mediationd"},
		env(map[string]string{"MEDIATION_PGBACKREST_CONFIG": "/etc/pgbackrest/pgbackrest.conf"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got.PgBackRestStanza != "mediationd" || got.PgBackRestConfig != "/etc/pgbackrest/pgbackrest.conf" {
		t.Errorf("stanza %q, config %q; want mediationd, /etc/pgbackrest/pgbackrest.conf", got.PgBackRestStanza, got.PgBackRestConfig)
	}
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"stanza with a space", map[string]string{"MEDIATION_PGBACKREST_STANZA": "my stanza"},
			[]string{"MEDIATION_PGBACKREST_STANZA", `"my stanza"`, "stanza name"}},
		{"stanza with a quote", map[string]string{"MEDIATION_PGBACKREST_STANZA": "a'b"},
			[]string{"MEDIATION_PGBACKREST_STANZA", "a'b"}},
		{"relative configuration file", map[string]string{"MEDIATION_PGBACKREST_STANZA": "m", "MEDIATION_PGBACKREST_CONFIG": "pgbackrest.conf"},
			[]string{"MEDIATION_PGBACKREST_CONFIG", "pgbackrest.conf", "absolute"}},
		{"configuration file without a stanza", map[string]string{"MEDIATION_PGBACKREST_CONFIG": "/etc/pgbackrest.conf"},
			[]string{"MEDIATION_PGBACKREST_CONFIG", "MEDIATION_PGBACKREST_STANZA"}},
		{"stanza with DATABASE_URL", map[string]string{"MEDIATION_PGBACKREST_STANZA": "m", "DATABASE_URL": "postgres://db.example/mediation"},
			[]string{"MEDIATION_PGBACKREST_STANZA", "DATABASE_URL", "archive_command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.Parse("mediationd", nil, env(tt.env), io.Discard)
			if err == nil {
				t.Fatalf("Parse with %v = %+v, want an error", tt.env, got)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestParseRefusesMissingDataDir(t *testing.T) {
	_, err := config.Parse("mediationd", []string{"--data-dir="}, env(nil), io.Discard)
	if err == nil {
		t.Fatal("Parse accepted an empty data directory without DATABASE_URL")
	}
	for _, want := range []string{"data-dir", "MEDIATION_DATA_DIR", "DATABASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestParseRefusesArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"positional", []string{"extra"}, "unexpected arguments: extra"},
		{"positional after flags", []string{"--log-level=debug", "one", "two"}, "unexpected arguments: one two"},
		{"unknown flag", []string{"--colour=blue"}, "colour"},
		{"flag without value", []string{"--timezone"}, "timezone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := config.Parse("mediationd", tt.args, env(nil), &out)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.args, got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q): error %q does not mention %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestMigrateIsASwitch: --migrate alone turns migration on and does not
// swallow the next flag as its value.
func TestMigrateIsASwitch(t *testing.T) {
	var out bytes.Buffer
	c, err := config.Parse("mediationd", []string{"--migrate", "--log-level=debug"}, env(nil), &out)
	if err != nil || !c.Migrate || c.LogLevel != "debug" {
		t.Fatalf("Parse(--migrate --log-level=debug) = %+v, %v", c, err)
	}
	c, err = config.Parse("mediationd", []string{"--migrate=false"}, env(map[string]string{"MEDIATION_MIGRATE": "true"}), &out)
	if err != nil || c.Migrate {
		t.Fatalf("--migrate=false over MEDIATION_MIGRATE=true: %+v, %v", c, err)
	}
}

func TestLevelAndLocation(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "WARN": slog.LevelWarn,
	} {
		got, err := config.Config{LogLevel: in}.Level()
		if err != nil || got != want {
			t.Errorf("Level of %q = %v, %v; want %v", in, got, err, want)
		}
	}
	c, err := config.Parse("mediationd", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if loc := c.Location(); loc.String() != "Asia/Shanghai" {
		t.Errorf("default Location = %v, want Asia/Shanghai", loc)
	}
}

// logTo returns the output of one logger built from c, writing to a file
// (not a terminal).
func logTo(t *testing.T, c config.Config, log func(*slog.Logger)) string {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	log(c.Logger(f))
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestLogger(t *testing.T) {
	parse := func(args ...string) config.Config {
		t.Helper()
		c, err := config.Parse("mediationd", args, env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	hello := func(l *slog.Logger) {
		l.Debug("quiet")
		l.Info("hello", "who", "张三")
	}

	t.Run("auto on a file is JSON", func(t *testing.T) {
		out := logTo(t, parse(), hello)
		var line map[string]any
		if err := json.Unmarshal([]byte(out), &line); err != nil {
			t.Fatalf("log output %q is not one JSON object: %v", out, err)
		}
		if line["level"] != "INFO" || line["msg"] != "hello" || line["who"] != "张三" {
			t.Errorf("log line = %v, want level INFO, msg hello, who 张三", line)
		}
	})
	t.Run("text when asked", func(t *testing.T) {
		out := logTo(t, parse("--log-format=text"), hello)
		if !strings.Contains(out, "level=INFO msg=hello who=张三") || json.Valid([]byte(out)) {
			t.Errorf("text log output = %q", out)
		}
	})
	t.Run("json when asked", func(t *testing.T) {
		if out := logTo(t, parse("--log-format=json"), hello); !json.Valid([]byte(out)) {
			t.Errorf("json log output = %q", out)
		}
	})
	t.Run("level", func(t *testing.T) {
		out := logTo(t, parse("--log-level=debug"), hello)
		if n := strings.Count(out, "\n"); n != 2 || !strings.Contains(out, `"msg":"quiet"`) {
			t.Errorf("debug log output = %q, want both lines", out)
		}
		if out := logTo(t, parse("--log-level=warn"), hello); out != "" {
			t.Errorf("warn log output = %q, want nothing", out)
		}
	})
}

// TestSecretKey: the key is read from base64 and a bad one is refused
// without repeating it.
func TestSecretKey(t *testing.T) {
	key := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	got, err := config.Parse("mediationd", nil, env(map[string]string{"MEDIATION_SECRET_KEY": key, "MEDIATION_WEBHOOK_ALLOWED_NETWORKS": "10.20.0.0/16, 127.0.0.1/8"}), io.Discard)
	if err != nil || len(got.Webhooks.SecretKey) != 32 || got.Webhooks.SecretKey[31] != 31 {
		t.Fatalf("Parse with a key: %v, %v", got.Webhooks.SecretKey, err)
	}
	if n := got.Webhooks.AllowedNetworks; len(n) != 2 || n[1].String() != "127.0.0.0/8" {
		t.Errorf("allowed networks %v", n)
	}
	for _, bad := range []string{"not base64!", "c2hvcnQ="} {
		_, err := config.Parse("mediationd", nil, env(map[string]string{"MEDIATION_SECRET_KEY": bad}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "MEDIATION_SECRET_KEY") || strings.Contains(err.Error(), bad) {
			t.Errorf("Parse with key %q: %v, want an error naming the variable but not the value", bad, err)
		}
	}
}
