package deploy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/mediationd/mediationd/internal/config"
)

// scheme knows the kinds the manifests may use.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeStrict decodes one YAML document into its Kubernetes API type:
// duplicate keys, unknown fields and unknown kinds are errors.
func decodeStrict(doc []byte) (runtime.Object, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	var tm struct{ APIVersion, Kind string }
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, err
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil || tm.Kind == "" {
		return nil, fmt.Errorf("apiVersion %q kind %q: not a Kubernetes object", tm.APIVersion, tm.Kind)
	}
	obj, err := scheme.New(gv.WithKind(tm.Kind))
	if err != nil {
		return nil, fmt.Errorf("unknown kind: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	return obj, nil
}

// manifests decodes every document of every file in k8s/.
func manifests(t *testing.T) []runtime.Object {
	t.Helper()
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in k8s/: %v", err)
	}
	var objs []runtime.Object
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range docSeparator.Split(string(b), -1) {
			if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")) == "" {
				continue
			}
			obj, err := decodeStrict([]byte(doc))
			if err != nil {
				t.Errorf("%s, document %d: %v", f, i+1, err)
				continue
			}
			objs = append(objs, obj)
		}
	}
	return objs
}

// only returns the single object of type T among objs.
func only[T runtime.Object](t *testing.T, objs []runtime.Object) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if v, ok := o.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("want one %T in the manifests, found %d", zero, len(found))
	}
	return found[0]
}

// TestStrictDecoderRefuses shows the decoder the manifests' test relies on
// refusing what a lenient one would let through.
func TestStrictDecoderRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {A: b}\ndatta: {}\n",
		"nested unknown": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 2}\n",
		"unknown kind":   "apiVersion: v1\nkind: ConfigMapp\nmetadata: {name: x}\n",
		"duplicate key":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {A: b, A: c}\n",
		"no kind":        "metadata: {name: x}\n",
	} {
		if _, err := decodeStrict([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := decodeStrict([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {A: b}\n")); err != nil {
		t.Errorf("a valid ConfigMap: %v", err)
	}
}

// podEnv is the environment the manifests give mediationd's container:
// the ConfigMap's and the Secret's keys, then the container's env.
func podEnv(t *testing.T, objs []runtime.Object, c corev1.Container) map[string]string {
	t.Helper()
	cm, sec := only[*corev1.ConfigMap](t, objs), only[*corev1.Secret](t, objs)
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil && from.ConfigMapRef.Name == cm.Name:
			for k, v := range cm.Data {
				env[k] = v
			}
		case from.SecretRef != nil && from.SecretRef.Name == sec.Name:
			for k, v := range sec.StringData {
				env[k] = v
			}
			// The template's placeholder key, as an operator replaces it.
			if strings.HasPrefix(env["MEDIATION_SECRET_KEY"], "CHANGE-ME") {
				env["MEDIATION_SECRET_KEY"] = base64.StdEncoding.EncodeToString(make([]byte, 32))
			}
			for k, v := range sec.Data {
				env[k] = string(v)
			}
		default:
			t.Errorf("container %s: envFrom %+v names neither the ConfigMap nor the Secret", c.Name, from)
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

// goRuntimeEnv are variables the Go runtime (not mediationd's config) reads.
var goRuntimeEnv = []string{"GOMEMLIMIT", "GOGC", "GOMAXPROCS", "GODEBUG"}

// TestManifests decodes every manifest strictly and checks them against
// the code: settings mediationd reads, ports from its configuration,
// security, shutdown timing and the migration Job's command.
func TestManifests(t *testing.T) {
	objs := manifests(t)
	known := map[string]bool{}
	for _, s := range config.Settings() {
		known[s.Env] = true
	}
	for _, n := range goRuntimeEnv {
		known[n] = true
	}
	cm, sec := only[*corev1.ConfigMap](t, objs), only[*corev1.Secret](t, objs)
	for k := range cm.Data {
		if !known[k] {
			t.Errorf("ConfigMap key %s is not a setting mediationd reads (see `mediationd help`)", k)
		}
	}
	for k := range sec.StringData {
		if !known[k] {
			t.Errorf("Secret key %s is not a setting mediationd reads", k)
		}
	}

	// A template: no real secret is committed.
	for k, v := range sec.StringData {
		if !strings.Contains(v, "CHANGE-ME") {
			t.Errorf("Secret %s holds a value, not a CHANGE-ME placeholder", k)
		}
	}

	// The multi-host URL: pgx must see three hosts and read-write sessions.
	pc, err := pgconn.ParseConfig(sec.StringData["DATABASE_URL"])
	if err != nil {
		t.Fatalf("Secret DATABASE_URL: %v", err)
	}
	if n := 1 + len(pc.Fallbacks); n != 3 || pc.ValidateConnect == nil {
		t.Errorf("Secret DATABASE_URL: %d hosts, read-write check %v; want the 3 Patroni members and target_session_attrs=read-write", n, pc.ValidateConnect != nil)
	}

	dep := only[*appsv1.Deployment](t, objs)
	spec := dep.Spec.Template.Spec
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 2 {
		t.Errorf("Deployment: replicas %v, want at least 2", dep.Spec.Replicas)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("Deployment: %d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	env := podEnv(t, objs, c)
	for k := range env {
		if !known[k] {
			t.Errorf("Deployment env %s is not a setting mediationd or the Go runtime reads", k)
		}
	}
	cfg, err := config.Parse("mediationd", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("the Deployment's settings do not parse: %v", err)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for name, addr := range map[string]string{"http": cfg.HTTPAddr, "grpc": cfg.GRPCAddr} {
		_, port, err := net.SplitHostPort(addr)
		if err != nil || port != fmt.Sprint(ports[name]) {
			t.Errorf("container port %s is %d, mediationd listens on %q", name, ports[name], addr)
		}
	}
	for _, s := range config.Settings() {
		if (s.Env == "MEDIATION_HTTP_ADDR" || s.Env == "MEDIATION_GRPC_ADDR") && cm.Data[s.Env] != s.Default {
			t.Errorf("ConfigMap %s = %q differs from mediationd's default %q: the image's EXPOSE and the docs assume the default", s.Env, cm.Data[s.Env], s.Default)
		}
	}
	for _, p := range []*corev1.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Fatalf("Deployment: startup, liveness and readiness probes must all be httpGet, got %+v", p)
		}
		if p.HTTPGet.Port.StrVal != "http" {
			t.Errorf("probe %s on port %v, want the named port http", p.HTTPGet.Path, p.HTTPGet.Port.String())
		}
	}

	// Security.
	psc, csc := spec.SecurityContext, c.SecurityContext
	if psc == nil || csc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
		csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation ||
		csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("Deployment: security contexts %+v / %+v lack runAsNonRoot, a non-root user, RuntimeDefault seccomp, a read-only root, no privilege escalation or dropping ALL", psc, csc)
	}
	if len(spec.TopologySpreadConstraints) == 0 && (spec.Affinity == nil || spec.Affinity.PodAntiAffinity == nil) {
		t.Error("Deployment: replicas are not spread (no topologySpreadConstraints or anti-affinity)")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("Deployment: resources %+v lack CPU and memory requests or a memory limit", c.Resources)
	}

	// Shutdown: the preStop sleep and mediationd's drain fit in the grace period.
	var sleep int64
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		sleep = c.Lifecycle.PreStop.Sleep.Seconds
	}
	grace := int64(30)
	if spec.TerminationGracePeriodSeconds != nil {
		grace = *spec.TerminationGracePeriodSeconds
	}
	if need := sleep + int64(cfg.ShutdownTimeout/time.Second); grace <= need {
		t.Errorf("terminationGracePeriodSeconds %d leaves no margin over preStop %ds + shutdown timeout %v", grace, sleep, cfg.ShutdownTimeout)
	}

	// The Service, the PodDisruptionBudget and the NetworkPolicy select
	// the pods and name ports the container has.
	svc := only[*corev1.Service](t, objs)
	podLabels := dep.Spec.Template.Labels
	for k, v := range svc.Spec.Selector {
		if podLabels[k] != v {
			t.Errorf("Service selector %s=%s does not match the pods' labels %v", k, v, podLabels)
		}
	}
	var svcPorts []string
	for _, p := range svc.Spec.Ports {
		svcPorts = append(svcPorts, p.TargetPort.StrVal)
		if _, ok := ports[p.TargetPort.StrVal]; !ok {
			t.Errorf("Service port %s targets %v, not a container port", p.Name, p.TargetPort.String())
		}
	}
	slices.Sort(svcPorts)
	if !slices.Equal(svcPorts, []string{"grpc", "http"}) {
		t.Errorf("Service ports target %v, want grpc and http", svcPorts)
	}
	pdb := only[*policyv1.PodDisruptionBudget](t, objs)
	for k, v := range pdb.Spec.Selector.MatchLabels {
		if podLabels[k] != v {
			t.Errorf("PodDisruptionBudget selector %s=%s does not match the pods' labels", k, v)
		}
	}
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() < 1 || pdb.Spec.MinAvailable.IntValue() >= int(*dep.Spec.Replicas) {
		t.Errorf("PodDisruptionBudget minAvailable %v: want at least 1 and fewer than the replicas, so a node can drain", pdb.Spec.MinAvailable)
	}
	for _, o := range objs {
		if np, ok := o.(*networkingv1.NetworkPolicy); ok {
			for _, r := range np.Spec.Ingress {
				for _, p := range r.Ports {
					if _, ok := ports[p.Port.StrVal]; !ok {
						t.Errorf("NetworkPolicy allows port %v, not a named container port", p.Port.String())
					}
				}
			}
		}
	}

	// The migration Job runs `mediationd migrate` with the same settings.
	job := only[*batchv1.Job](t, objs)
	jc := job.Spec.Template.Spec.Containers
	if len(jc) != 1 {
		t.Fatalf("Job: %d containers, want 1", len(jc))
	}
	if cmd := append(slices.Clone(jc[0].Command), jc[0].Args...); !slices.Equal(cmd, []string{"/usr/local/bin/mediationd", "migrate"}) {
		t.Errorf("Job runs %q, want the image's /usr/local/bin/mediationd migrate", cmd)
	}
	if jc[0].Image != c.Image {
		t.Errorf("Job image %s differs from the Deployment's %s", jc[0].Image, c.Image)
	}
	if je := podEnv(t, objs, jc[0]); je["DATABASE_URL"] != env["DATABASE_URL"] {
		t.Error("Job and Deployment reach different databases")
	}
}
