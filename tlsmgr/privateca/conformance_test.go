package privateca_test

import (
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

var _ tlsmgr.RootsIssuer = (*privateca.CA)(nil)
