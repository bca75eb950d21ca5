package cli

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// Version returns the report printed by -v, one "name: version" line each
// for nats-autotls, the embedded nats-server and Go, for example:
//
//	nats-autotls: v0.3.0 (revision 4ac5c28e01f2, 2026-11-30T01:00:00Z)
//	nats-server: v2.15.2
//	go: go1.27.3
//
// info is the build information (debug.ReadBuildInfo); with nil the
// nats-autotls version reads "unknown". A binary built from a checkout
// reports "(devel)" and its VCS revision, with ", modified" when the tree
// had uncommitted changes.
func Version(info *debug.BuildInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "nats-autotls: %s\n", ownVersion(info))
	fmt.Fprintf(&b, "nats-server: v%s\n", server.VERSION)
	goVersion := "unknown"
	if info != nil {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(&b, "go: %s\n", goVersion)
	return b.String()
}

// ownVersion is the main module's version and its VCS details.
func ownVersion(info *debug.BuildInfo) string {
	if info == nil {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" {
		v = "unknown"
	}
	var details []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if r := settings["vcs.revision"]; r != "" {
		if len(r) > 12 {
			r = r[:12]
		}
		details = append(details, "revision "+r)
	}
	if t := settings["vcs.time"]; t != "" {
		details = append(details, t)
	}
	if settings["vcs.modified"] == "true" {
		details = append(details, "modified")
	}
	if len(details) > 0 {
		v += " (" + strings.Join(details, ", ") + ")"
	}
	return v
}
