package acme

import "github.com/nats-autotls/autotls/internal/certutil"

// KeyType names the algorithm of the certificate keys [Issuer.Obtain]
// generates. The zero value means [KeyP256].
type KeyType string

// The key types. Not every CA accepts every type: Let's Encrypt
// refuses Ed25519 (Pebble accepts it); the CA's error is returned as is.
const (
	KeyP256    KeyType = "p256"
	KeyP384    KeyType = "p384"
	KeyRSA2048 KeyType = "rsa2048"
	KeyRSA3072 KeyType = "rsa3072"
	KeyRSA4096 KeyType = "rsa4096"
	KeyEd25519 KeyType = "ed25519"
)

// certutil maps k to the shared key type; ok is false for unknown names.
func (k KeyType) certutil() (kt certutil.KeyType, ok bool) {
	if k == "" {
		return certutil.P256, true
	}
	for _, t := range certutil.KeyTypes() {
		if string(t) == string(k) {
			return t, true
		}
	}
	return "", false
}
