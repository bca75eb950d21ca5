package tlsmgr_test

import (
	"crypto/tls"
	"fmt"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// A listener's own TLS policy, such as nats-server parses from a tls {}
// block with verify, ca_file and min_version, keeps its settings; only the
// certificate source becomes the Manager's. Parsing the same block again
// gives the same *tls.Config, so a reload sees no TLS change.
func ExampleManager_TLSConfigFor() {
	m, err := tlsmgr.New(tlsmgr.Config{Storage: tlsmgr.NewMemoryStorage()})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	parsed := func() *tls.Config {
		return &tls.Config{MinVersion: tls.VersionTLS13, ClientAuth: tls.RequireAndVerifyClientCert}
	}
	c, err := m.TLSConfigFor(tlsmgr.RoleClient, "client", parsed())
	if err != nil {
		panic(err)
	}
	again, _ := m.TLSConfigFor(tlsmgr.RoleClient, "client", parsed())
	fmt.Println(tls.VersionName(c.MinVersion), c.ClientAuth, c.GetCertificate != nil, c == again)

	_, err = m.TLSConfigFor(tlsmgr.RoleClient, "client", &tls.Config{InsecureSkipVerify: true})
	fmt.Println(err != nil)
	// Output:
	// TLS 1.3 RequireAndVerifyClientCert true true
	// true
}
