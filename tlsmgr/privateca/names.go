package privateca

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// A NameError reports a name that [CA.Issue] cannot put in a certificate.
type NameError struct {
	Name   string // the name as given
	Reason string // what is wrong with it
}

// Error names the value, the problem and the fix.
func (e *NameError) Error() string {
	return fmt.Sprintf("privateca: issue: name %q: %s; use a DNS name such as %q, a wildcard such as %q or an IP address",
		e.Name, e.Reason, "nats.example.com", "*.example.com")
}

// maxDNSLen is the longest DNS name, in its textual form without the root dot.
const maxDNSLen = 253

// checkNames checks every name and returns the DNS names and IP addresses,
// without duplicates, in the order given.
func checkNames(names []string) (dns []string, ips []net.IP, err error) {
	if len(names) == 0 {
		return nil, nil, errors.New("privateca: issue: no names; pass at least one DNS name or IP address")
	}
	for _, n := range names {
		if err := checkName(n); err != nil {
			return nil, nil, err
		}
	}
	d, i := certutil.SplitNames(names)
	return dedupDNS(d), dedupIPs(i), nil
}

// checkName reports whether n is an IP address or a valid DNS name or
// wildcard.
func checkName(n string) error {
	if net.ParseIP(strings.Trim(n, "[]")) != nil {
		return nil
	}
	name := strings.TrimSuffix(n, ".")
	switch {
	case name == "":
		return &NameError{Name: n, Reason: "empty"}
	case len(name) > maxDNSLen:
		return &NameError{Name: n, Reason: fmt.Sprintf("longer than %d bytes", maxDNSLen)}
	}
	labels := strings.Split(name, ".")
	if labels[0] == "*" {
		if len(labels) < 2 {
			return &NameError{Name: n, Reason: "a wildcard needs a domain after \"*.\""}
		}
		labels = labels[1:]
	}
	for _, l := range labels {
		if err := checkLabel(n, l); err != nil {
			return err
		}
	}
	return nil
}

// checkLabel checks one label of name: 1 to 63 letters, digits, hyphens or
// underscores, not starting or ending with a hyphen.
func checkLabel(name, l string) error {
	switch {
	case l == "":
		return &NameError{Name: name, Reason: "has an empty label"}
	case len(l) > 63:
		return &NameError{Name: name, Reason: fmt.Sprintf("label %q is longer than 63 bytes", l)}
	case l == "*" || strings.Contains(l, "*"):
		return &NameError{Name: name, Reason: "\"*\" is allowed only as the whole first label"}
	case l[0] == '-' || l[len(l)-1] == '-':
		return &NameError{Name: name, Reason: fmt.Sprintf("label %q starts or ends with a hyphen", l)}
	}
	for _, r := range l {
		if !isLabelRune(r) {
			return &NameError{Name: name, Reason: fmt.Sprintf("character %q is not allowed", r)}
		}
	}
	return nil
}

func isLabelRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

func dedupDNS(in []string) []string {
	var out []string
	for _, n := range in {
		if !containsString(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func dedupIPs(in []net.IP) []net.IP {
	var out []net.IP
	for _, ip := range in {
		if !containsIP(out, ip) {
			out = append(out, ip)
		}
	}
	return out
}

func containsIP(list []net.IP, ip net.IP) bool {
	for _, x := range list {
		if x.Equal(ip) {
			return true
		}
	}
	return false
}

// commonName returns the normalised form of n for a subject common name, or
// "" if it is too long for one.
func commonName(n string) string {
	if ip := net.ParseIP(strings.Trim(n, "[]")); ip != nil {
		return ip.String()
	}
	n = strings.ToLower(strings.TrimSuffix(n, "."))
	if len(n) > maxNameLen {
		return ""
	}
	return n
}
