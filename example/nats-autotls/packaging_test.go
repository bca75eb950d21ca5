package main

// Tests that keep the packaging honest: the Dockerfile's build command is
// run as written and yields a static binary whose health probe works; the
// systemd unit's ExecStart, ExecReload and ExecStop lines parse as this
// binary's command line and pass its -t check; the alert rules name
// metrics the collector exports.

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/conf"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/nats-autotls/autotls/tlsmgr/metrics"
)

// repoRoot is the repository's top directory, from this package's.
const repoRoot = "../.."

// shellWords splits s as /bin/sh would split a simple command: blanks
// separate words, backslash escapes, quotes group. No expansion.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == '\'':
			cur.WriteRune(r)
		case r == '\\' && i+1 < len(runes):
			i++
			cur.WriteRune(runes[i])
			inWord = true
		case quote == 0 && (r == '\'' || r == '"'):
			quote, inWord = r, true
		case quote == 0 && (r == ' ' || r == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	require.Zero(t, quote, "unterminated quote in %q", s)
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// dockerfile is the parsed Dockerfile: its instructions, continuation
// lines joined, comments dropped.
type dockerfile struct{ instr [][2]string }

func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	require.NoError(t, err)
	var df dockerfile
	var pending string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") && !strings.HasSuffix(line, "\\\\") {
			pending += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line = pending + line
		pending = ""
		cmd, rest, _ := strings.Cut(line, " ")
		df.instr = append(df.instr, [2]string{strings.ToUpper(cmd), strings.TrimSpace(rest)})
	}
	return df
}

// all returns the arguments of every instruction cmd, in order.
func (df dockerfile) all(cmd string) []string {
	var out []string
	for _, in := range df.instr {
		if in[0] == cmd {
			out = append(out, in[1])
		}
	}
	return out
}

// execForm parses a JSON-array instruction argument such as ["a", "b"].
func execForm(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	require.NoError(t, yaml.Unmarshal([]byte(s), &out), "exec form %s", s)
	return out
}

// flagValue returns the value following flag in args.
func flagValue(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// The image's build command, run here as the Dockerfile runs it, makes a
// static binary whose -autotls_probe mode (the HEALTHCHECK) follows
// /healthz; the image's other settings agree with one another.
func TestDockerfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the image is linux")
	}
	df := parseDockerfile(t)

	// The toolchain is the project's.
	ci, err := os.ReadFile(filepath.Join(repoRoot, ".ci/run"))
	require.NoError(t, err)
	m := regexp.MustCompile(`GOTOOLCHAIN=go(\S+)`).FindSubmatch(ci)
	require.NotNil(t, m, ".ci/run names the toolchain")
	require.Contains(t, df.all("ARG"), "GO_VERSION="+string(m[1]), "the image builds with CI's Go")

	// The build command, with the environment the Dockerfile sets.
	var env []string
	for _, e := range df.all("ENV") {
		for _, kv := range shellWords(t, e) {
			if !strings.HasPrefix(kv, "GOTOOLCHAIN=") { // the image's Go is that toolchain; here GOTOOLCHAIN selects it
				env = append(env, kv)
			}
		}
	}
	require.Contains(t, env, "CGO_ENABLED=0", "a static binary")
	var build []string
	for _, r := range df.all("RUN") {
		if w := shellWords(t, r); len(w) > 2 && w[0] == "go" && w[1] == "build" {
			build = w
		}
	}
	require.NotNil(t, build, "the Dockerfile has a RUN go build")
	require.Equal(t, "./example/nats-autotls", build[len(build)-1])
	out := flagValue(build, "-o")
	require.NotEmpty(t, out)
	bin := filepath.Join(t.TempDir(), "nats-autotls")
	build[slices.Index(build, "-o")+1] = bin
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, build[0], build[1:]...)
	cmd.Dir, cmd.Env = repoRoot, append(os.Environ(), env...)
	outb, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s: %s", strings.Join(build, " "), outb)

	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "a static binary has no dynamic loader")
	}
	libs, _ := f.ImportedLibraries()
	require.Empty(t, libs, "a static binary needs no shared library")

	// The final stage: the binary where HEALTHCHECK and ENTRYPOINT run it.
	var installed string
	for _, c := range df.all("COPY") {
		if w := shellWords(t, c); len(w) == 3 && w[0] == "--from=build" && w[1] == out {
			installed = w[2]
		}
	}
	require.NotEmpty(t, installed, "COPY --from=build %s", out)
	entry := execForm(t, df.all("ENTRYPOINT")[0])
	require.Equal(t, installed, entry[0])
	_, statusPort, err := net.SplitHostPort(flagValue(entry, "-autotls_status"))
	require.NoError(t, err, "ENTRYPOINT serves the status port")
	storage := flagValue(entry, "-autotls_storage")
	require.Contains(t, df.all("VOLUME"), fmt.Sprintf("[%q]", storage), "storage is a volume")
	require.Contains(t, shellWords(t, df.all("EXPOSE")[0]), statusPort)
	users := df.all("USER")
	require.NotEmpty(t, users)
	user := users[len(users)-1]
	require.NotContains(t, []string{"root", "0", "0:0"}, user, "the image runs unprivileged")
	owned := false
	for _, c := range df.all("COPY") {
		w := shellWords(t, c)
		owned = owned || (len(w) == 4 && w[1] == "--chown="+user && w[3] == storage)
	}
	require.True(t, owned, "the storage directory belongs to the image's user %s, or a new volume is not writable", user)

	hc := df.all("HEALTHCHECK")
	require.Len(t, hc, 1)
	_, cmdJSON, ok := strings.Cut(hc[0], "CMD ")
	require.True(t, ok)
	probeCmd := execForm(t, cmdJSON)
	require.Equal(t, []string{installed, "-autotls_probe"}, probeCmd[:2])
	probeURL := probeCmd[2]
	require.Equal(t, "http://127.0.0.1:"+statusPort+"/healthz", probeURL)

	// The probe, as the HEALTHCHECK runs it, against a /healthz that is
	// healthy, then not.
	var unhealthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || unhealthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"healthy":false,"reason":"client (client): no certificate yet"}`)
		}
	}))
	defer srv.Close()
	url := strings.Replace(probeURL, "http://127.0.0.1:"+statusPort, srv.URL, 1)
	outb, err = exec.CommandContext(ctx, bin, "-autotls_probe", url).CombinedOutput()
	require.NoError(t, err, "%s", outb)
	unhealthy.Store(true)
	outb, err = exec.CommandContext(ctx, bin, "-autotls_probe", url).CombinedOutput()
	require.Error(t, err, "an unhealthy node fails the probe")
	require.Contains(t, string(outb), "no certificate yet")
}

// unit is a parsed systemd unit file: values per "Section.Key", in order.
type unit map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	u := unit{}
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			require.True(t, ok, "%s: %q", path, line)
			u[section+"."+k] = append(u[section+"."+k], v)
		}
	}
	return u
}

// one returns the single value of key.
func (u unit) one(t *testing.T, key string) string {
	t.Helper()
	require.Len(t, u[key], 1, key)
	return u[key][0]
}

// The unit is hardened as nats-server's is; its ExecStart, with the
// variables systemd fills, is a command line this binary accepts and whose
// configuration passes -t; ExecReload and ExecStop send the signals
// through --signal; systemd-analyze verify accepts it where present.
func TestSystemdUnit(t *testing.T) {
	path := filepath.Join(repoRoot, "packaging/systemd/nats-autotls.service")
	u := parseUnit(t, path)
	for key, want := range map[string]string{
		"Service.ProtectSystem":         "strict",
		"Service.NoNewPrivileges":       "true",
		"Service.StateDirectory":        "nats-autotls",
		"Service.StateDirectoryMode":    "0700",
		"Service.CapabilityBoundingSet": "",
		"Service.AmbientCapabilities":   "",
		"Service.User":                  "nats",
		"Service.UMask":                 "0077",
	} {
		require.Equal(t, want, u.one(t, key), key)
	}
	drop := parseUnit(t, filepath.Join(repoRoot, "packaging/systemd/http01.conf"))
	require.Equal(t, "CAP_NET_BIND_SERVICE", drop.one(t, "Service.AmbientCapabilities"), "port 80 only through the http-01 drop-in")

	// ExecStart as systemd runs it: ${STATE_DIRECTORY} is the state
	// directory, $NATS_AUTOTLS_OPTS (from /etc/default/nats-autotls) splits
	// into words.
	state := t.TempDir()
	conf := filepath.Join(t.TempDir(), "nats.conf")
	require.NoError(t, os.WriteFile(conf, []byte("port: 4222\nhttp_port: 8222\n"), 0o600))
	start := shellWords(t, u.one(t, "Service.ExecStart"))
	require.Equal(t, "/usr/local/bin/nats-autotls", start[0])
	var args []string
	for _, a := range start[1:] {
		switch a {
		case "${STATE_DIRECTORY}":
			args = append(args, state)
		case "$NATS_AUTOTLS_OPTS":
			args = append(args, "-autotls_names", "nats1.example.com")
		case "/etc/nats/nats.conf":
			args = append(args, conf)
		default:
			require.NotContains(t, a, "$", "a variable the test does not fill: %s", a)
			args = append(args, a)
		}
	}
	require.Equal(t, state, flagValue(args, "-autotls_storage"), "certificates live in StateDirectory")
	var stderr bytes.Buffer
	require.NoError(t, run(context.Background(), append(args, "-t"), &stderr, nil), "%s", stderr.String())
	require.Contains(t, stderr.String(), "is valid")

	for key, want := range map[string]string{"Service.ExecReload": "reload=4242", "Service.ExecStop": "ldm=4242"} {
		w := shellWords(t, strings.ReplaceAll(u.one(t, key), "$MAINPID", "4242"))
		require.Equal(t, "/usr/local/bin/nats-autotls", w[0], key)
		c, err := parseCommand(w[1:])
		require.NoError(t, err, key)
		require.Equal(t, actionSignal, c.action, key)
		require.Equal(t, want, c.signal, key)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not found: unit not verified by systemd")
		return
	}
	self, err := os.Executable()
	require.NoError(t, err)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	verified := filepath.Join(t.TempDir(), "nats-autotls.service")
	require.NoError(t, os.WriteFile(verified, bytes.ReplaceAll(data, []byte("/usr/local/bin/nats-autotls"), []byte(self)), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, analyze, "verify", verified).CombinedOutput()
	require.NoError(t, err, "systemd-analyze verify: %s", out)
	require.NotContains(t, string(out), "nats-autotls.service:", "systemd warns about the unit: %s", out)
}

// Every metric an alert rule names is one the collector exports.
func TestAlertRulesNameExportedMetrics(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "packaging/prometheus/nats-autotls-alerts.yml"))
	require.NoError(t, err)
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Expr   string            `yaml:"expr"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(data, &rules))
	require.NotEmpty(t, rules.Groups)

	ch := make(chan *prometheus.Desc, 64)
	go func() { metrics.New(metrics.Config{}).Describe(ch); close(ch) }()
	exported := map[string]bool{}
	name := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		exported[name.FindStringSubmatch(d.String())[1]] = true
	}
	used := regexp.MustCompile(`\bnats_autotls_[a-z_]+`)
	alerts := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert)
			require.NotEmpty(t, r.Labels["severity"], r.Alert)
			names := used.FindAllString(r.Expr, -1)
			require.NotEmpty(t, names, "%s uses a nats_autotls metric", r.Alert)
			for _, n := range names {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_count"), "_sum")
				require.True(t, exported[base], "%s: %s is not exported", r.Alert, n)
			}
			alerts[r.Alert] = true
		}
	}
	require.True(t, alerts["NatsAutoTLSCertificateExpiresSoon"], "expires within N days")
	require.True(t, alerts["NatsAutoTLSRenewalFailing"], "renewal failing")
}

// The README links every page under docs/, and every link in a docs page
// to a repository file points at one that exists.
func TestDocsAreLinked(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(pages), 5, "a page per deployment")
	link := regexp.MustCompile(`\]\(([^)#]+)\)`)
	for _, page := range pages {
		require.Contains(t, string(readme), "(docs/"+filepath.Base(page)+")", "README links %s", page)
		data, err := os.ReadFile(page)
		require.NoError(t, err)
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			if strings.Contains(m[1], "://") {
				continue
			}
			_, err := os.Stat(filepath.Join(filepath.Dir(page), m[1]))
			require.NoError(t, err, "%s links %s", page, m[1])
		}
	}
}

// heredocs returns the bodies of the <<'EOF2' ... EOF2 blocks of a docs
// page: the manifests it tells to kubectl apply.
func heredocs(t *testing.T, page string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "docs", page))
	require.NoError(t, err)
	var out []string
	rest := string(data)
	for {
		_, after, ok := strings.Cut(rest, "<<'EOF2'\n")
		if !ok {
			return out
		}
		body, tail, ok := strings.Cut(after, "\nEOF2\n")
		require.True(t, ok, "%s: unterminated heredoc", page)
		out = append(out, body)
		rest = tail
	}
}

// k8sObject is the part of a Kubernetes object the test reads.
type k8sObject struct {
	Kind string            `yaml:"kind"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Template struct {
			Spec struct {
				Containers []struct {
					Name  string   `yaml:"name"`
					Image string   `yaml:"image"`
					Args  []string `yaml:"args"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// The Kubernetes pages' manifests are valid YAML objects, and the
// nats-autotls container's arguments there, with its ConfigMap's nats.conf
// and a CA where the Secret is mounted, pass this binary's -t check.
func TestKubernetesManifests(t *testing.T) {
	for _, page := range []string{"kubernetes.md", "kubernetes-sidecar.md"} {
		t.Run(page, func(t *testing.T) {
			docs := heredocs(t, page)
			require.Len(t, docs, 1, "one manifest to apply")
			var objs []k8sObject
			dec := yaml.NewDecoder(strings.NewReader(docs[0]))
			for {
				var o k8sObject
				if err := dec.Decode(&o); err == io.EOF {
					break
				} else {
					require.NoError(t, err)
				}
				require.NotEmpty(t, o.Kind)
				objs = append(objs, o)
			}
			var natsConf string
			var args []string
			for _, o := range objs {
				if c, ok := o.Data["nats.conf"]; ok {
					natsConf = c
				}
				for _, c := range o.Spec.Template.Spec.Containers {
					if strings.Contains(c.Image, "nats-autotls") {
						args = c.Args
					}
				}
			}
			require.NotEmpty(t, natsConf, "a ConfigMap with nats.conf")
			require.NotEmpty(t, args, "a nats-autotls container")

			dir := t.TempDir()
			confPath := filepath.Join(dir, "nats.conf")
			require.NoError(t, os.WriteFile(confPath, []byte(natsConf), 0o600))
			require.NoError(t, writeNewCA(filepath.Join(dir, "ca"), io.Discard))
			replacer := strings.NewReplacer("$(POD_NAME)", "nats-0", "/etc/nats/nats.conf", confPath,
				"/secrets/ca.pem", filepath.Join(dir, "ca.pem"), "/secrets/ca.key", filepath.Join(dir, "ca.key"),
				"/etc/nats/certs", filepath.Join(dir, "certs"), "/var/run/nats/nats.pid", filepath.Join(dir, "nats.pid"))
			// The image's entry point comes first.
			full := []string{"-autotls_storage", filepath.Join(dir, "data"), "-autotls_status", "127.0.0.1:0"}
			for _, a := range args {
				full = append(full, replacer.Replace(a))
			}
			if !slices.ContainsFunc(full, func(a string) bool { return strings.HasPrefix(a, "-c=") }) {
				// The sidecar has no configuration for -t: its flags parse
				// and pass their checks, and the server's nats.conf parses.
				c, err := parseCommand(full)
				require.NoError(t, err)
				require.NoError(t, c.af.check())
				_, err = conf.Parse(natsConf)
				require.NoError(t, err, "nats.conf")
				return
			}
			var stderr bytes.Buffer
			require.NoError(t, run(context.Background(), append(full, "-t"), &stderr, nil), "%s", stderr.String())
		})
	}
}
