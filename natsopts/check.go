package natsopts

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strings"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// Check reports, without changing opts, every reason [Apply] would refuse
// opts: each as a *[ConfigError], joined with errors.Join. It returns nil if
// Apply would succeed. Listeners whose config brings its own certificate
// are not managed and only checked by nats-server. It refuses:
//
//   - a managed listener whose role has no names, or whose role the
//     Manager cannot serve;
//   - InsecureSkipVerify ("insecure") on a managed listener: managed TLS
//     relies on verifying peers, and nats-server only honours it when
//     dialling (routes, gateways, leafnode remotes), where it would accept
//     any peer;
//   - GetConfigForClient on a managed cluster or gateway config (the
//     Manager uses it to verify dialing peers);
//   - a negative TLSTimeout (every handshake would time out at once);
//   - ocsp_peer on a leafnode remote parsed from a configuration file
//     without ca_file while the Manager verifies the hub itself (its
//     development mode): nats-server would replace that verification;
//   - TLSMap on a managed listener whose config asks for no client
//     certificate (neither ClientAuth, as "verify" sets it, nor
//     [tlsmgr.RoleConfig.VerifyPeers]): every mapped login fails;
//   - OCSP stapling that must staple (OCSPConfig.Mode always or must) while
//     a listener is managed: nats-server staples only certificates from
//     Certificates, so the managed ones would silently go without;
//   - TLSRateLimit other than 0 on options built in code: NewServer panics
//     on it (options parsed from a configuration file work);
//   - an advertised address (ClientAdvertise, Websocket.Advertise,
//     LeafNode.Advertise, Cluster.Advertise unless NoAdvertise,
//     Gateway.Advertise) of a managed listener whose host the role's names
//     do not cover: clients and peers that follow it would fail to verify
//     the certificate;
//   - a route URL (Options.Routes) or gateway URL whose host the role's
//     names do not cover (see [PeerNames]; not checked when the cluster's
//     or gateway's config names roots of its own, a ca_file, whose peers
//     may have other names), and, with TLSCheckKnownURLs,
//     routes or gateways of which no URL host could match a DNS name of the
//     role (IP hosts never match), when the cluster or gateway is managed.
//
// Pinned certificates (TLSPinnedCerts) are nats-server's to enforce and are
// kept; note that a managed peer gets a new key at each renewal, so pins
// suit peers that are not managed.
//
// Check is pure and safe for concurrent use if nothing writes opts.
func Check(opts *server.Options, m *tlsmgr.Manager, options ...Option) error {
	if opts == nil || m == nil {
		return errors.New("natsopts: check: opts and m must not be nil")
	}
	s := newSettings(options)
	var errs []error
	errs = append(errs, checkServer(opts, m)...)
	checked := make(map[**tls.Config]bool) // HTTPS shares the client's config
	for _, l := range listeners(opts) {
		if !checked[l.config] {
			checked[l.config] = true
			errs = append(errs, checkListener(m, l)...)
		}
	}
	errs = append(errs, checkAdvertise(opts, m)...)
	errs = append(errs, checkRoutes(opts, m, s)...)
	errs = append(errs, checkGateways(opts, m, s)...)
	return errors.Join(errs...)
}

// checkServer checks the options that are not per listener.
func checkServer(opts *server.Options, m *tlsmgr.Manager) []error {
	var errs []error
	if o := opts.OCSPConfig; o != nil && (o.Mode == server.OCSPModeAlways || o.Mode == server.OCSPModeMust) && anyManaged(opts, m) {
		errs = append(errs, &ConfigError{Listener: "server", Option: "OCSPConfig.Mode", Value: ocspMode(o.Mode), Conf: "ocsp.mode",
			Reason: "nats-server staples only certificates loaded from files, so the managed listeners would serve none (and Let's Encrypt has no OCSP since 2025-08)",
			Fix:    "remove the ocsp block or set its mode to auto or never (OCSPConfig nil or Mode OCSPModeNever/OCSPModeAuto)"})
	}
	if opts.TLSRateLimit != 0 && !parsedTLS(opts) {
		errs = append(errs, &ConfigError{Listener: "server", Option: "TLSRateLimit", Value: fmt.Sprint(opts.TLSRateLimit),
			Reason: "server.NewServer panics on a rate limit set in code (it works only from a configuration file's connection_rate_limit)",
			Fix:    "set TLSRateLimit to 0"})
	}
	return errs
}

// ocspMode names an OCSP mode as nats.conf writes it.
func ocspMode(m server.OCSPMode) string {
	switch m {
	case server.OCSPModeAlways:
		return "always"
	case server.OCSPModeMust:
		return "must"
	case server.OCSPModeNever:
		return "never"
	}
	return "auto"
}

// parsedTLS reports whether the client TLS options were parsed from a
// configuration file: nats-server then keeps the parsed block in an
// unexported field, which NewServer reads for the rate limit.
func parsedTLS(opts *server.Options) bool {
	f := reflect.ValueOf(opts).Elem().FieldByName("tlsConfigOpts")
	return f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil()
}

// anyManaged reports whether m serves some enabled listener of opts.
func anyManaged(opts *server.Options, m *tlsmgr.Manager) bool {
	for _, l := range listeners(opts) {
		if managed(m, l) {
			return true
		}
	}
	return false
}

// checkListener checks one enabled listener against the Manager.
func checkListener(m *tlsmgr.Manager, l listener) []error {
	if !managed(m, l) {
		return nil // its own certificate: nats-server checks it
	}
	var errs []error
	if len(m.Names(l.role)) == 0 {
		errs = append(errs, &ConfigError{Listener: l.name, Option: l.field, Value: "role " + l.role.String() + " has no names", Conf: l.conf,
			Reason: "no certificate can be issued for it", Fix: "give the Manager names (Config.Names or Config.Roles[" + l.role.String() + "].Names)"})
	}
	managedConfig, err := m.TLSConfig(l.role)
	if err != nil {
		return append(errs, fmt.Errorf("natsopts: %s: role %s: %w", l.name, l.role, err))
	}
	p := policyOf(l)
	if p != nil && !m.Serves(p) {
		errs = append(errs, checkPolicy(l, p)...)
	}
	if l.timeout != nil && *l.timeout < 0 {
		errs = append(errs, &ConfigError{Listener: l.name, Option: l.timeoutField, Value: fmt.Sprint(*l.timeout), Conf: l.confKey("timeout"),
			Reason: "every handshake would time out at once", Fix: "use 0 for the default (2 seconds) or a positive number of seconds"})
	}
	if l.ocspPeer && (p == nil || p.RootCAs == nil) && managedConfig.VerifyConnection != nil {
		errs = append(errs, &ConfigError{Listener: l.name, Option: l.field + " (ocsp_peer)", Value: "true", Conf: l.confKey("ocsp_peer"),
			Reason: "without ca_file the Manager verifies the hub itself in VerifyConnection, which nats-server replaces with its OCSP check, so no hub would be verified",
			Fix:    "give the hub's CA with ca_file, or remove ocsp_peer"})
	}
	if l.tlsMap && !asksClientCert(p) && managedConfig.ClientAuth == tls.NoClientCert {
		errs = append(errs, &ConfigError{Listener: l.name, Option: l.prefix + "TLSMap", Value: "true", Conf: l.confKey("verify_and_map"),
			Reason: "the listener asks for no client certificate, so no login can be mapped",
			Fix:    "set ClientAuth (\"verify\": true) with ClientCAs (\"ca_file\") on its config, or Config.Roles[" + l.role.String() + "].VerifyPeers in the Manager, or TLSMap to false"})
	}
	return errs
}

// checkPolicy refuses the settings of a listener's own config that the
// Manager cannot keep.
func checkPolicy(l listener, p *tls.Config) []error {
	var errs []error
	if p.InsecureSkipVerify {
		errs = append(errs, &ConfigError{Listener: l.name, Option: l.field + ".InsecureSkipVerify", Value: "true", Conf: l.confKey("insecure"),
			Reason: "insecure turns off the verification of peers that managed TLS relies on (when dialling, any peer would be accepted)",
			Fix:    "remove insecure; give the peers' CA with ca_file if they are not on the private CA"})
	}
	if l.role.Mutual() && p.GetConfigForClient != nil {
		errs = append(errs, &ConfigError{Listener: l.name, Option: l.field + ".GetConfigForClient", Value: "set",
			Reason: "the Manager uses GetConfigForClient to verify dialing peers",
			Fix:    "verify peers with VerifyConnection instead"})
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
		conf            string
	}{
		{!opts.DontListen && !m.HasOwnCertificate(opts.TLSConfig), "client", "ClientAdvertise", opts.ClientAdvertise, tlsmgr.RoleClient, "client_advertise"},
		{opts.Websocket.Port != 0 && !opts.Websocket.NoTLS && !m.HasOwnCertificate(opts.Websocket.TLSConfig), "websocket", "Websocket.Advertise", opts.Websocket.Advertise, tlsmgr.RoleWebsocket, "websocket.advertise"},
		{opts.LeafNode.Port != 0 && !m.HasOwnCertificate(opts.LeafNode.TLSConfig), "leafnode", "LeafNode.Advertise", opts.LeafNode.Advertise, tlsmgr.RoleLeafnode, "leafnodes.advertise"},
		{clusterManaged(opts, m) && !opts.Cluster.NoAdvertise, "cluster", "Cluster.Advertise", opts.Cluster.Advertise, tlsmgr.RoleCluster, "cluster.advertise"},
		{gatewayManaged(opts, m), "gateway", "Gateway.Advertise", opts.Gateway.Advertise, tlsmgr.RoleGateway, "gateway.advertise"},
	} {
		if !a.on || a.value == "" {
			continue
		}
		host, names := advertisedHost(a.value), m.Names(a.role)
		if len(names) == 0 || covers(names, host) {
			continue // no names is refused by checkListener
		}
		errs = append(errs, &ConfigError{Listener: a.listener, Option: a.field, Value: a.value, Conf: a.conf,
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

// checkRoutes checks the route URLs against the cluster names.
func checkRoutes(opts *server.Options, m *tlsmgr.Manager, s settings) []error {
	if !clusterManaged(opts, m) {
		return nil
	}
	names := m.Names(tlsmgr.RoleCluster)
	var errs []error
	peerNames := s.peerNames && !extraRoots(opts.Cluster.TLSConfig)
	if peerNames {
		for i, u := range opts.Routes {
			errs = append(errs, checkCovered("cluster", fmt.Sprintf("Routes[%d]", i), fmt.Sprintf("cluster.routes[%d]", i), u, names)...)
		}
	}
	if s.knownURLs(opts.Cluster.TLSCheckKnownURLs) {
		errs = append(errs, checkKnown("cluster", "Cluster.TLSCheckKnownURLs", "cluster.tls.verify_cert_and_check_known_urls", "route", names, opts.Routes, peerNames)...)
	}
	return errs
}

// checkGateways checks the remote gateway URLs against the gateway names.
func checkGateways(opts *server.Options, m *tlsmgr.Manager, s settings) []error {
	if !gatewayManaged(opts, m) {
		return nil
	}
	names := m.Names(tlsmgr.RoleGateway)
	var errs []error
	// nats-server matches an inbound gateway against the URLs of every
	// entry, its own gateway's included; only remotes are dialled.
	var all []*url.URL
	peerNames := s.peerNames && !extraRoots(opts.Gateway.TLSConfig)
	for i, g := range opts.Gateway.Gateways {
		if g == nil {
			continue
		}
		all = append(all, g.URLs...)
		if !peerNames || extraRoots(g.TLSConfig) || g.Name == opts.Gateway.Name {
			continue
		}
		for j, u := range g.URLs {
			errs = append(errs, checkCovered(fmt.Sprintf("gateway remote %q", g.Name), fmt.Sprintf("Gateway.Gateways[%d].URLs[%d]", i, j), fmt.Sprintf("gateway.gateways[%d].urls[%d]", i, j), u, names)...)
		}
	}
	if s.knownURLs(opts.Gateway.TLSCheckKnownURLs) {
		errs = append(errs, checkKnown("gateway", "Gateway.TLSCheckKnownURLs", "gateway.tls.verify_cert_and_check_known_urls", "gateway", names, all, peerNames)...)
	}
	return errs
}

// extraRoots reports whether a cluster or gateway config names roots of
// its own (ca_file): its peers need not be managed nodes sharing this
// one's names, so their URLs are not checked against them.
func extraRoots(c *tls.Config) bool {
	return c != nil && (c.ClientCAs != nil || c.RootCAs != nil)
}

// checkKnown refuses the TLSCheckKnownURLs option field of listener when
// no inbound peer (a "route" or "gateway", kind) could pass it.
func checkKnown(listener, field, conf, kind string, names []string, urls []*url.URL, peerNames bool) []error {
	if knownURLMatch(names, urls, peerNames) {
		return nil
	}
	return []error{&ConfigError{Listener: listener, Option: field, Value: "true", Conf: conf,
		Reason: fmt.Sprintf("no %s URL host in %s could match a DNS name of the %s certificate %v, so every inbound %s would be refused", kind, urlHosts(urls), listener, names, kind),
		Fix:    fmt.Sprintf("list %ss by DNS names that the %s names cover, or turn TLSCheckKnownURLs off", kind, listener)}}
}

// checkCovered refuses a peer URL whose host names do not cover.
func checkCovered(listener, field, conf string, u *url.URL, names []string) []error {
	if u == nil {
		return nil
	}
	if covers(names, u.Hostname()) {
		return nil
	}
	return []error{&ConfigError{Listener: listener, Option: field, Value: u.Redacted(), Conf: conf,
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
