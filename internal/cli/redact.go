package cli

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// RedactArgs hides the secrets in args in place, as nats-server's main
// does before anything can read them (expvar's /debug/vars on --profile
// serves os.Args): the values of --user, --pass and --auth, the user
// information of --routes, --cluster and -autotls_kv_url URLs, and the
// values of -autotls_dns_setting KEY=VALUE (a DNS provider's token may be
// one; KEY_file=PATH stays). Pass os.Args[1:] itself, not a copy, so that
// os.Args changes.
func RedactArgs(args []string) {
	server.RedactArgs(args)
	for i, arg := range args {
		var redact func(string) string
		switch {
		case kvURLArg.MatchString(arg):
			redact = redactURLUser
		case dnsSettingArg.MatchString(arg):
			redact = redactSetting
		default:
			continue
		}
		if name, value, ok := strings.Cut(arg, "="); ok {
			args[i] = name + "=" + redact(value)
		} else if i+1 < len(args) {
			args[i+1] = redact(args[i+1])
		}
	}
}

var (
	// kvURLArg matches the flag whose value may carry a NATS user and
	// password.
	kvURLArg = regexp.MustCompile(`^--?autotls_kv_url(=.*)?$`)
	// dnsSettingArg matches the flag whose value may be a DNS token.
	dnsSettingArg = regexp.MustCompile(`^--?autotls_dns_setting(=.*)?$`)
)

// redactSetting hides the value of KEY=VALUE unless KEY names a file.
func redactSetting(s string) string {
	k, _, ok := strings.Cut(s, "=")
	if !ok || strings.HasSuffix(strings.ToLower(strings.TrimSpace(k)), "_file") {
		return s
	}
	return k + "=[REDACTED]"
}

// redactURLUser replaces the user information of each comma-separated URL
// in s with [REDACTED].
func redactURLUser(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			continue
		}
		u.User = url.User("REDACTED")
		parts[i] = strings.Replace(u.String(), "REDACTED", "[REDACTED]", 1)
	}
	return strings.Join(parts, ",")
}
