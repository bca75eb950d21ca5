package natsopts

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// Check reports, without changing opts, every reason [Apply] would refuse
// opts: each as a *[ConfigError], joined with errors.Join. It returns nil if
// Apply would succeed. It refuses:
//
//   - an enabled listener whose role has no names, or whose role the
//     Manager cannot serve;
//   - a *tls.Config already set on an enabled listener that carries
//     Certificates: Apply replaces the config, and the certificate would be
//     silently lost;
//   - a negative TLSTimeout (every handshake would time out at once);
//   - TLSMap on a listener whose role does not ask for client certificates
//     ([tlsmgr.RoleConfig.VerifyPeers] is false): every mapped login fails;
//   - Cluster.TLSPinnedCerts, Gateway.TLSPinnedCerts, and
//     LeafNode.TLSPinnedCerts when there are leafnode remotes: pins name
//     peer keys, and managed peers change keys at every renewal;
//   - OCSPConfig (other than OCSPModeNever): nats-server turns stapling off
//     for callback configs, or rewrites their callbacks in place;
//   - TLSRateLimit other than 0: NewServer panics on it when options are
//     built in code;
//   - an advertised address (ClientAdvertise, Websocket.Advertise,
//     LeafNode.Advertise, Cluster.Advertise unless NoAdvertise,
//     Gateway.Advertise) whose host the role's names do not cover: clients
//     and peers that follow it would fail to verify the certificate;
//   - a route URL (Options.Routes) or gateway URL whose host the role's
//     names do not cover (see [PeerNames]), and, with TLSCheckKnownURLs,
//     routes or gateways of which no URL host could match a DNS name of the
//     role (IP hosts never match).
//
// Check is pure and safe for concurrent use if nothing writes opts.
func Check(opts *server.Options, m *tlsmgr.Manager, options ...Option) error {
	if opts == nil || m == nil {
		return errors.New("natsopts: check: opts and m must not be nil")
	}
	s := newSettings(options)
	var errs []error
	errs = append(errs, checkServer(opts)...)
	checked := make(map[**tls.Config]bool) // HTTPS shares the client's config
	for _, l := range listeners(opts) {
		if !checked[l.config] {
			checked[l.config] = true
			errs = append(errs, checkListener(m, l)...)
		}
	}
	errs = append(errs, checkAdvertise(opts, m)...)
	errs = append(errs, checkPins(opts)...)
	errs = append(errs, checkRoutes(opts, m, s)...)
	errs = append(errs, checkGateways(opts, m, s)...)
	return errors.Join(errs...)
}

// checkServer checks the options that are not per listener.
func checkServer(opts *server.Options) []error {
	var errs []error
	if o := opts.OCSPConfig; o != nil && o.Mode != server.OCSPModeNever {
		errs = append(errs, &ConfigError{Listener: "server", Option: "OCSPConfig.Mode", Value: fmt.Sprint(o.Mode),
			Reason: "nats-server turns OCSP stapling off for callback configs, or rewrites their callbacks in place",
			Fix:    "set OCSPConfig to nil (Let's Encrypt has no OCSP since 2025-08)"})
	}
	if opts.TLSRateLimit != 0 {
		errs = append(errs, &ConfigError{Listener: "server", Option: "TLSRateLimit", Value: fmt.Sprint(opts.TLSRateLimit),
			Reason: "server.NewServer panics on a rate limit set in code",
			Fix:    "set TLSRateLimit to 0"})
	}
	return errs
}

// checkListener checks one enabled listener against the Manager.
func checkListener(m *tlsmgr.Manager, l listener) []error {
	var errs []error
	if len(m.Names(l.role)) == 0 {
		errs = append(errs, &ConfigError{Listener: l.name, Option: l.field, Value: "role " + l.role.String() + " has no names",
			Reason: "no certificate can be issued for it", Fix: "give the Manager names (Config.Names or Config.Roles[" + l.role.String() + "].Names)"})
	}
	managed, err := m.TLSConfig(l.role)
	if err != nil {
		return append(errs, fmt.Errorf("natsopts: %s: role %s: %w", l.name, l.role, err))
	}
	if c := *l.config; c != nil && c != managed && len(c.Certificates) > 0 {
		errs = append(errs, &ConfigError{Listener: l.name, Option: l.field + ".Certificates", Value: fmt.Sprintf("%d certificate(s)", len(c.Certificates)),
			Reason: "Apply replaces the config and the certificate would be lost", Fix: "set " + l.field + " to nil and let the Manager serve the listener"})
	}
	if l.timeout != nil && *l.timeout < 0 {
		errs = append(errs, &ConfigError{Listener: l.name, Option: l.timeoutField, Value: fmt.Sprint(*l.timeout),
			Reason: "every handshake would time out at once", Fix: "use 0 for the default (2 seconds) or a positive number of seconds"})
	}
	if l.tlsMap && managed.ClientAuth == tls.NoClientCert {
		errs = append(errs, &ConfigError{Listener: l.name, Option: l.prefix + "TLSMap", Value: "true",
			Reason: "the role does not ask for client certificates, so no login can be mapped",
			Fix:    "set Config.Roles[" + l.role.String() + "].VerifyPeers in the Manager, or TLSMap to false"})
	}
	return errs
}

// checkAdvertise refuses an advertised address whose host the role's
// names do not cover: clients (connect_urls) and peers (gossiped routes,
// gateways, leafnodes) that follow it would fail to verify the certificate.
func checkAdvertise(opts *server.Options, m *tlsmgr.Manager) []error {
	var errs []error
	for _, a := range []struct {
		on              bool
		listener, field string
		value           string
		role            tlsmgr.Role
	}{
		{!opts.DontListen, "client", "ClientAdvertise", opts.ClientAdvertise, tlsmgr.RoleClient},
		{opts.Websocket.Port != 0 && !opts.Websocket.NoTLS, "websocket", "Websocket.Advertise", opts.Websocket.Advertise, tlsmgr.RoleWebsocket},
		{opts.LeafNode.Port != 0, "leafnode", "LeafNode.Advertise", opts.LeafNode.Advertise, tlsmgr.RoleLeafnode},
		{clusterEnabled(opts) && !opts.Cluster.NoAdvertise, "cluster", "Cluster.Advertise", opts.Cluster.Advertise, tlsmgr.RoleCluster},
		{gatewayEnabled(opts), "gateway", "Gateway.Advertise", opts.Gateway.Advertise, tlsmgr.RoleGateway},
	} {
		if !a.on || a.value == "" {
			continue
		}
		host, names := advertisedHost(a.value), m.Names(a.role)
		if len(names) == 0 || covers(names, host) {
			continue // no names is refused by checkListener
		}
		errs = append(errs, &ConfigError{Listener: a.listener, Option: a.field, Value: a.value,
			Reason: fmt.Sprintf("clients and peers that follow the advertised address verify host %q, which the role's names %v do not cover", host, names),
			Fix:    "add the host to the Manager's names for the role, or advertise a host they cover"})
	}
	return errs
}

// advertisedHost returns the host of an advertise setting: "host",
// "host:port", "[ipv6]:port" or a URL.
func advertisedHost(v string) string {
	if _, rest, ok := strings.Cut(v, "://"); ok {
		v = rest
	}
	if host, _, err := net.SplitHostPort(v); err == nil {
		return host
	}
	return strings.Trim(v, "[]")
}

// checkPins refuses pinned peer keys on connections whose peers rotate keys.
func checkPins(opts *server.Options) []error {
	var errs []error
	pin := func(listener, field string, n int) {
		errs = append(errs, &ConfigError{Listener: listener, Option: field, Value: fmt.Sprintf("%d pin(s)", n),
			Reason: "pins name the peer's key, and managed peers get a new key at every renewal",
			Fix:    "remove the pins; peers are verified against the private CA"})
	}
	if n := len(opts.Cluster.TLSPinnedCerts); n > 0 && clusterEnabled(opts) {
		pin("cluster", "Cluster.TLSPinnedCerts", n)
	}
	if n := len(opts.Gateway.TLSPinnedCerts); n > 0 && gatewayEnabled(opts) {
		pin("gateway", "Gateway.TLSPinnedCerts", n)
	}
	if n := len(opts.LeafNode.TLSPinnedCerts); n > 0 && len(opts.LeafNode.Remotes) > 0 {
		pin("leafnode remote", "LeafNode.TLSPinnedCerts", n)
	}
	return errs
}

// checkRoutes checks the route URLs against the cluster names.
func checkRoutes(opts *server.Options, m *tlsmgr.Manager, s settings) []error {
	if !clusterEnabled(opts) {
		return nil
	}
	names := m.Names(tlsmgr.RoleCluster)
	var errs []error
	if s.peerNames {
		for i, u := range opts.Routes {
			errs = append(errs, checkCovered("cluster", fmt.Sprintf("Routes[%d]", i), u, names)...)
		}
	}
	if s.knownURLs(opts.Cluster.TLSCheckKnownURLs) {
		errs = append(errs, checkKnown("cluster", "Cluster.TLSCheckKnownURLs", "route", names, opts.Routes, s.peerNames)...)
	}
	return errs
}

// checkGateways checks the remote gateway URLs against the gateway names.
func checkGateways(opts *server.Options, m *tlsmgr.Manager, s settings) []error {
	if !gatewayEnabled(opts) {
		return nil
	}
	names := m.Names(tlsmgr.RoleGateway)
	var errs []error
	// nats-server matches an inbound gateway against the URLs of every
	// entry, its own gateway's included; only remotes are dialled.
	var all []*url.URL
	for i, g := range opts.Gateway.Gateways {
		if g == nil {
			continue
		}
		all = append(all, g.URLs...)
		if !s.peerNames || g.Name == opts.Gateway.Name {
			continue
		}
		for j, u := range g.URLs {
			errs = append(errs, checkCovered(fmt.Sprintf("gateway remote %q", g.Name), fmt.Sprintf("Gateway.Gateways[%d].URLs[%d]", i, j), u, names)...)
		}
	}
	if s.knownURLs(opts.Gateway.TLSCheckKnownURLs) {
		errs = append(errs, checkKnown("gateway", "Gateway.TLSCheckKnownURLs", "gateway", names, all, s.peerNames)...)
	}
	return errs
}

// checkKnown refuses the TLSCheckKnownURLs option field of listener when
// no inbound peer (a "route" or "gateway", kind) could pass it.
func checkKnown(listener, field, kind string, names []string, urls []*url.URL, peerNames bool) []error {
	if knownURLMatch(names, urls, peerNames) {
		return nil
	}
	return []error{&ConfigError{Listener: listener, Option: field, Value: "true",
		Reason: fmt.Sprintf("no %s URL host in %s could match a DNS name of the %s certificate %v, so every inbound %s would be refused", kind, urlHosts(urls), listener, names, kind),
		Fix:    fmt.Sprintf("list %ss by DNS names that the %s names cover, or turn TLSCheckKnownURLs off", kind, listener)}}
}

// checkCovered refuses a peer URL whose host names do not cover.
func checkCovered(listener, field string, u *url.URL, names []string) []error {
	if u == nil {
		return nil
	}
	if covers(names, u.Hostname()) {
		return nil
	}
	return []error{&ConfigError{Listener: listener, Option: field, Value: u.Redacted(),
		Reason: fmt.Sprintf("host %q is not covered by the role's names %v, so the peer's certificate fails verification when dialled there", u.Hostname(), names),
		Fix:    "add the host to the Manager's names for the role (a wildcard such as *.example.com covers a cluster), or use PeerNames(false) if each node has its own names"}}
}

// covers reports whether a certificate for names covers host.
func covers(names []string, host string) bool {
	dns, ips := certutil.SplitNames(names)
	return certutil.Covers(&x509.Certificate{DNSNames: dns, IPAddresses: ips}, host)
}

// knownURLMatch reports whether an inbound peer could pass
// TLSCheckKnownURLs: some URL host must be a DNS name, and, when peers
// share this server's names (peerNames), be matched by one of them.
func knownURLMatch(names []string, urls []*url.URL, peerNames bool) bool {
	dns, _ := certutil.SplitNames(names)
	for _, u := range urls {
		if u == nil {
			continue
		}
		host := u.Hostname()
		if net.ParseIP(host) != nil {
			continue
		}
		if !peerNames {
			return true
		}
		if covers(dns, host) {
			return true
		}
	}
	return false
}

// urlHosts lists the hosts of urls for messages.
func urlHosts(urls []*url.URL) string {
	hosts := make([]string, 0, len(urls))
	for _, u := range urls {
		if u != nil {
			hosts = append(hosts, u.Hostname())
		}
	}
	return "[" + strings.Join(hosts, " ") + "]"
}
