package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"

	"github.com/mediationd/mediationd/internal/pgtest"
)

// hideZoneinfo is a shell prefix that runs a command in a private mount
// namespace with an empty tmpfs over the host's /usr/share/zoneinfo, as in
// a distroless image without tzdata; ok is false where user namespaces are
// not allowed.
func hideZoneinfo() (prefix []string, ok bool) {
	prefix = []string{"unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
		`mount -t tmpfs none /usr/share/zoneinfo && ! test -e /usr/share/zoneinfo/Asia/Shanghai && exec "$@"`, "sh"}
	if _, err := exec.LookPath("unshare"); err != nil {
		return nil, false
	}
	return prefix, exec.Command(prefix[0], append(prefix[1:], "true")...).Run() == nil
}

// binCommand runs the static binary with args and only env, without the
// host's zone files if hide (the caller checked hideZoneinfo).
func binCommand(t *testing.T, hide bool, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	argv := append([]string{staticBinary(t)}, args...)
	if prefix, _ := hideZoneinfo(); hide {
		argv = append(prefix, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// TestStaticBinaryWithoutHostZoneinfo checks the image's binary: built by
// build-static.sh with CGO_ENABLED=0, it runs and resolves Asia/Shanghai
// with no zone files on the machine and ZONEINFO unset.
func TestStaticBinaryWithoutHostZoneinfo(t *testing.T) {
	if _, ok := hideZoneinfo(); !ok {
		t.Skip("unshare --user --mount is not allowed here: cannot hide the host's zoneinfo")
	}
	out, err := exec.Command("go", "version", "-m", staticBinary(t)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CGO_ENABLED=0") || !strings.Contains(string(out), "-tags=timetzdata") {
		t.Errorf("go version -m: %v\n%s\nwant CGO_ENABLED=0 and -tags=timetzdata", err, out)
	}
	if out, err := binCommand(t, true, nil, "version").CombinedOutput(); err != nil || string(out) != "mediationd deploy-test\n" {
		t.Errorf("mediationd version: %v %q", err, out)
	}
	// migrate parses the settings (loading the zone) before it connects:
	// a zone it cannot load is refused first.
	out, err = binCommand(t, true, map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/none?connect_timeout=2", "MEDIATION_TIMEZONE": "Asia/Shanghai"}, "migrate").CombinedOutput()
	if err == nil || strings.Contains(string(out), "MEDIATION_TIMEZONE") {
		t.Errorf("migrate against a closed port: %v\n%s\nwant a connection error, not a time zone error", err, out)
	}
	out, _ = binCommand(t, true, map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/none", "MEDIATION_TIMEZONE": "Asia/Nowhere"}, "migrate").CombinedOutput()
	if !strings.Contains(string(out), "MEDIATION_TIMEZONE") {
		t.Errorf("an unknown zone was not refused, so the check above proves nothing:\n%s", out)
	}
}

// TestMigrationJobAndProbes runs what the manifests run, with the static
// binary on a fresh database (with the host's zone files: the test
// database's socket is not reachable from a user namespace): the Job's command, then the Deployment's
// container with its settings (listening on free loopback ports), and asks
// its probes' paths on its HTTP port and the gRPC health service: each must
// answer as the code's probe (JSON status), and readiness must be true
// after the Job. Then SIGTERM must end it within the grace period.
func TestMigrationJobAndProbes(t *testing.T) {
	objs := manifests(t)
	dep, job := only[*appsv1.Deployment](t, objs), only[*batchv1.Job](t, objs)
	dsn := pgtest.NewDatabase(t)

	jc := job.Spec.Template.Spec.Containers[0]
	jenv := podEnv(t, objs, jc)
	jenv["DATABASE_URL"] = dsn
	argv := append(jc.Command[1:], jc.Args...)
	if out, err := binCommand(t, false, jenv, argv...).CombinedOutput(); err != nil {
		t.Fatalf("the Job's command %q: %v\n%s", argv, err, out)
	}

	c := dep.Spec.Template.Spec.Containers[0]
	env := podEnv(t, objs, c)
	env["DATABASE_URL"] = dsn
	env["MEDIATION_HTTP_ADDR"], env["MEDIATION_GRPC_ADDR"] = "127.0.0.1:0", "127.0.0.1:0"
	env["MEDIATION_LOG_FORMAT"] = "json"
	cmd := binCommand(t, false, env, c.Args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	})
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var l struct{ Msg, GRPC, HTTP string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "serving" {
				addrs <- [2]string{l.GRPC, l.HTTP}
			}
		}
		done <- cmd.Wait()
	}()
	var grpcAddr, httpAddr string
	select {
	case a := <-addrs:
		grpcAddr, httpAddr = a[0], a[1]
	case err := <-done:
		t.Fatalf("mediationd serve exited: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("mediationd serve did not log its addresses within 60s")
	}

	get := func(path string) (int, map[string]string) {
		resp, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		var body map[string]string
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || json.NewDecoder(resp.Body).Decode(&body) != nil {
			t.Errorf("GET %s: %s %s, not the JSON of a probe (the workbench's fallback page?)", path, resp.Status, ct)
		}
		return resp.StatusCode, body
	}
	want := map[string]string{c.StartupProbe.HTTPGet.Path: "alive", c.LivenessProbe.HTTPGet.Path: "alive", c.ReadinessProbe.HTTPGet.Path: "ready"}
	for path, status := range want {
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, body := get(path)
			if code == http.StatusOK && body["status"] == status {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("GET %s: %d %v, want 200 with status %q", path, code, body, status)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// Control: a path the code does not serve as a probe gets no probe
	// JSON (the workbench's page answers it), so the checks above tell a
	// probe from a mistyped path.
	if resp, err := http.Get("http://" + httpAddr + "/healthz-typo"); err == nil {
		var body map[string]string
		if json.NewDecoder(resp.Body).Decode(&body) == nil && body["status"] != "" {
			t.Errorf("GET /healthz-typo answered like a probe: %v", body)
		}
		resp.Body.Close()
	}

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("gRPC health on the grpc port: %v %v, want SERVING", r, err)
	}

	grace := time.Duration(*dep.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM: %v", err)
		}
		t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(grace):
		t.Errorf("still running %v after SIGTERM (the pod's grace period)", grace)
	}
}
