package natsopts

// An Option changes what [Apply] and [Check] do. The zero set of options
// leaves TLSHandshakeFirst and TLSCheckKnownURLs as the caller set them and
// checks route and gateway URLs against the Manager's names.
type Option func(*settings)

// settings is the result of the options.
type settings struct {
	// handshakeFirst, if not nil, is written to Options.TLSHandshakeFirst.
	handshakeFirst *bool
	// checkKnownURLs, if not nil, is written to Cluster.TLSCheckKnownURLs
	// and Gateway.TLSCheckKnownURLs.
	checkKnownURLs *bool
	// peerNames makes Check refuse route and gateway URLs that the role's
	// names do not cover.
	peerNames bool
}

// newSettings applies options over the defaults.
func newSettings(options []Option) settings {
	s := settings{peerNames: true}
	for _, o := range options {
		if o != nil {
			o(&s)
		}
	}
	return s
}

// knownURLs returns the TLSCheckKnownURLs in effect for a listener whose
// field is set to field.
func (s settings) knownURLs(field bool) bool {
	if s.checkKnownURLs != nil {
		return *s.checkKnownURLs
	}
	return field
}

// HandshakeFirst sets Options.TLSHandshakeFirst: the client listener starts
// TLS at once instead of sending the NATS INFO line in plain text first.
// Use it when clients reach the server through a TLS-terminating or
// TLS-passthrough proxy that expects the client to speak first; clients
// must then connect with handshake-first too (nats.go: nats.TLSHandshakeFirst).
// Without this option Apply leaves the field as it is.
func HandshakeFirst(on bool) Option {
	return func(s *settings) { s.handshakeFirst = &on }
}

// CheckKnownURLs sets Cluster.TLSCheckKnownURLs and
// Gateway.TLSCheckKnownURLs ("verify_cert_and_check_known_urls"): an
// inbound route or gateway is accepted only if a DNS name in its
// certificate matches the host of a configured route or gateway URL. Check
// then refuses route or gateway URLs that no DNS name of the role could
// match. Without this option Apply leaves the fields as they are (and still
// checks them).
func CheckKnownURLs(on bool) Option {
	return func(s *settings) { s.checkKnownURLs = &on }
}

// PeerNames turns the check of route and gateway URLs on or off (default
// on). With it on, every host in Options.Routes must be covered by the
// Manager's cluster names and every host of Gateway.Gateways by its
// gateway names: the design shares one set of names among the nodes of a
// cluster (for example "*.nats.internal"), and a route dialled at a host the
// peer's certificate does not cover fails verification. Turn it off when
// each node has names of its own.
func PeerNames(on bool) Option {
	return func(s *settings) { s.peerNames = on }
}
