package acme

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"strings"
)

// http01Prefix is where a shared http-01 solver keeps challenge tokens in
// [HTTP01.Storage]: one key per token, holding its key authorization.
const http01Prefix = "acme/http-01/"

// ChallengeStorage keeps http-01 challenge tokens where every node of a
// fleet can read them. A tlsmgr.Storage, such as kvstorage's bucket or a
// FileStorage on a shared volume, satisfies it. A missing key is reported
// as an error matching [io/fs.ErrNotExist].
//
// Implementations must be safe for concurrent use.
type ChallengeStorage interface {
	Load(ctx context.Context, key string) ([]byte, error)
	Store(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
}

// storageSolver presents http-01 challenges by writing them to shared
// storage, for every node's [HTTP01Responder] to answer.
type storageSolver struct{ s ChallengeStorage }

func (ss storageSolver) present(ctx context.Context, _ *order, _, token, keyAuth string) error {
	if !validToken(token) {
		return errors.New("acme: http-01: the CA sent a token with characters outside base64url")
	}
	return ss.s.Store(ctx, http01Prefix+token, []byte(keyAuth))
}

func (ss storageSolver) cleanUp(ctx context.Context, _, token, _ string) error {
	if !validToken(token) {
		return nil
	}
	return ss.s.Delete(ctx, http01Prefix+token)
}

// HTTP01Responder returns a handler answering the CA's http-01 requests,
// GET /.well-known/acme-challenge/<token>, with the key authorization an
// Issuer with [HTTP01.Storage] wrote to storage: mounted on port 80 of
// every node of a fleet, it lets whichever node the CA (or a load
// balancer) reaches answer a challenge that another node's order
// presented. Other requests go to next; nil next answers them 404. The
// handler reads storage with the request's context; an unknown token is
// a 404.
func HTTP01Responder(storage ChallengeStorage, next http.Handler) http.Handler {
	if next == nil {
		next = http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.URL.Path, "/.well-known/acme-challenge/")
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		if !validToken(token) {
			http.NotFound(w, r)
			return
		}
		keyAuth, err := storage.Load(r.Context(), http01Prefix+token)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			http.NotFound(w, r)
			return
		case err != nil:
			http.Error(w, "challenge storage unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(keyAuth)
	})
}

// validToken reports whether token is a non-empty base64url string, as
// RFC 8555 tokens are, so that it is safe as a storage key segment.
func validToken(token string) bool {
	if token == "" || len(token) > 256 {
		return false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
