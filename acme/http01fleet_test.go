package acme_test

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/tlsmgr"
)

var _ acme.ChallengeStorage = tlsmgr.Storage(nil)

// mapStorage is a ChallengeStorage in memory.
type mapStorage struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *mapStorage) Load(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return v, nil
}

func (s *mapStorage) Store(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

func (s *mapStorage) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func TestHTTP01Responder(t *testing.T) {
	storage := &mapStorage{m: map[string][]byte{"acme/http-01/tok_EN-1": []byte("tok_EN-1.thumbprint")}}
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := acme.HTTP01Responder(storage, next)
	tests := []struct {
		name, method, path string
		code               int
		body               string
	}{
		{"known token", http.MethodGet, "/.well-known/acme-challenge/tok_EN-1", http.StatusOK, "tok_EN-1.thumbprint"},
		{"unknown token", http.MethodGet, "/.well-known/acme-challenge/other", http.StatusNotFound, ""},
		{"path in token", http.MethodGet, "/.well-known/acme-challenge/..%2Fx", http.StatusNotFound, ""},
		{"empty token", http.MethodGet, "/.well-known/acme-challenge/", http.StatusNotFound, ""},
		{"other path", http.MethodGet, "/healthz", http.StatusTeapot, ""},
		{"post", http.MethodPost, "/.well-known/acme-challenge/tok_EN-1", http.StatusTeapot, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			require.Equal(t, tt.code, rec.Code)
			if tt.body != "" {
				require.Equal(t, tt.body, rec.Body.String())
			}
		})
	}
}
