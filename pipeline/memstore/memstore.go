// Package memstore is an in-memory bucket with the methods of the S3
// adapter, for unit tests of the stages, the watcher, the catalog and the
// web server. It records every write, so tests can check what was written
// and in which order, and it can be made to fail, as an S3 outage does.
// The e2e tests run the same code on MinIO.
package memstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prodcast/prodcast/pipeline"
)

// Store is an in-memory bucket. The zero value is not usable: call New.
type Store struct {
	mu      sync.Mutex
	objects map[string]object
	sorted  []string // the keys, in order, for List
	clock   time.Time
	writes  []string
	// Fail, when set, is returned (as an outage of S3) by every call.
	fail error
	// urls are the presigned URLs handed out, by signature, served at
	// urlBase (see PresignGet).
	urls    map[string]presigned
	urlBase string
}

type object struct {
	data []byte
	info pipeline.Object
}

// New returns an empty bucket.
func New() *Store {
	return &Store{objects: map[string]object{}, clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// SetFail makes every call fail with err wrapped as an S3 outage; nil
// ends the outage.
func (s *Store) SetFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// Writes returns the keys written and deleted so far, in order: "put KEY"
// or "delete KEY".
func (s *Store) Writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

// ResetWrites forgets the writes recorded so far.
func (s *Store) ResetWrites() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = nil
}

// Keys lists every key, in order.
func (s *Store) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sorted)
}

func (s *Store) check() error {
	if s.fail != nil {
		return pipeline.Unavailable("S3", s.fail)
	}
	return nil
}

func notFound(key string) error { return fmt.Errorf("no object %q: %w", key, pipeline.ErrNotFound) }

// PutBytes stores data at key.
func (s *Store) PutBytes(ctx context.Context, key string, data []byte, p pipeline.Put) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	sum := md5.Sum(data)
	s.clock = s.clock.Add(time.Second)
	if _, ok := s.objects[key]; !ok {
		i, _ := slices.BinarySearch(s.sorted, key)
		s.sorted = slices.Insert(s.sorted, i, key)
	}
	s.objects[key] = object{data: bytes.Clone(data), info: pipeline.Object{Key: key, Size: int64(len(data)),
		ETag: hex.EncodeToString(sum[:]), ContentType: p.ContentType, CacheControl: p.CacheControl, LastModified: s.clock,
		Status: p.Status, Duration: p.Duration}}
	s.writes = append(s.writes, "put "+key)
	return nil
}

// PutFile stores a local file at key.
func (s *Store) PutFile(ctx context.Context, key, path string, p pipeline.Put) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if sum := sha256.Sum256(data); p.SHA256 != "" && hex.EncodeToString(sum[:]) != p.SHA256 {
		return &pipeline.ChangedError{Path: path, Want: p.SHA256, Got: hex.EncodeToString(sum[:])}
	}
	return s.PutBytes(ctx, key, data, p)
}

// Get reads an object.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	o, ok := s.objects[key]
	if !ok {
		return nil, notFound(key)
	}
	return bytes.Clone(o.data), nil
}

// GetFile writes an object to a local file.
func (s *Store) GetFile(ctx context.Context, key, path string) error {
	data, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// GetFileSHA256 writes an object to a local file and returns its SHA-256
// and length.
func (s *Store) GetFileSHA256(ctx context.Context, key, path string) (string, int64, error) {
	data, err := s.Get(ctx, key)
	if err != nil {
		return "", 0, err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), int64(len(data)), os.WriteFile(path, data, 0o644)
}

type reader struct{ *bytes.Reader }

func (reader) Close() error { return nil }

// OpenObject opens an object for reading.
func (s *Store) OpenObject(ctx context.Context, key string) (pipeline.Reader, pipeline.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return nil, pipeline.Object{}, err
	}
	o, ok := s.objects[key]
	if !ok {
		return nil, pipeline.Object{}, notFound(key)
	}
	return reader{bytes.NewReader(o.data)}, o.info, nil
}

// Stat describes an object.
func (s *Store) Stat(ctx context.Context, key string) (pipeline.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return pipeline.Object{}, err
	}
	o, ok := s.objects[key]
	if !ok {
		return pipeline.Object{}, notFound(key)
	}
	return o.info, nil
}

// List describes every object under prefix, in key order.
func (s *Store) List(ctx context.Context, prefix string) ([]pipeline.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []pipeline.Object
	i, _ := slices.BinarySearch(s.sorted, prefix)
	for ; i < len(s.sorted) && strings.HasPrefix(s.sorted[i], prefix); i++ {
		out = append(out, s.objects[s.sorted[i]].info)
	}
	return out, nil
}

// Dirs lists the "folders" right under prefix.
func (s *Store) Dirs(ctx context.Context, prefix string) ([]string, error) {
	objs, err := s.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, o := range objs {
		if dir, _, ok := strings.Cut(strings.TrimPrefix(o.Key, prefix), "/"); ok && !seen[dir] {
			seen[dir] = true
			out = append(out, dir)
		}
	}
	return out, nil
}

// Delete removes an object; a missing one is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	if _, ok := s.objects[key]; ok {
		delete(s.objects, key)
		if i, found := slices.BinarySearch(s.sorted, key); found {
			s.sorted = slices.Delete(s.sorted, i, i+1)
		}
		s.writes = append(s.writes, "delete "+key)
	}
	return nil
}

// DeletePrefix removes every object under prefix.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	objs, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := s.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
}

// Copy copies an object.
func (s *Store) Copy(ctx context.Context, src, dst string) error {
	s.mu.Lock()
	o, ok := s.objects[src]
	err := s.check()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if !ok {
		return notFound(src)
	}
	return s.PutBytes(ctx, dst, o.data, pipeline.Put{ContentType: o.info.ContentType, CacheControl: o.info.CacheControl,
		Status: o.info.Status, Duration: o.info.Duration})
}

// PresignGet cannot be had in memory: nothing outside the process could
// read the URL. Tests of what streams through ffmpeg run on MinIO.
//
// The URL is served on a loopback port of the store's own, with ranged
// reads, as a bucket serves one: ffmpeg and the meter read it as they read
// a recording in the bucket. It answers 404 once the object is gone, 403
// after ttl, 503 during an outage (SetFail).
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return "", err
	}
	if s.urls == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("memstore: cannot serve presigned URLs: %w", err)
		}
		s.urls = map[string]presigned{}
		go http.Serve(ln, http.HandlerFunc(s.serveURL))
		s.urlBase = "http://" + ln.Addr().String() + "/"
	}
	var token [16]byte
	rand.Read(token[:])
	sig := hex.EncodeToString(token[:])
	s.urls[sig] = presigned{key: key, until: time.Now().Add(ttl)}
	return s.urlBase + url.PathEscape(key) + "?X-Amz-Signature=" + sig, nil
}

type presigned struct {
	key   string
	until time.Time
}

func (s *Store) serveURL(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.urls[r.URL.Query().Get("X-Amz-Signature")]
	o, found := s.objects[p.key]
	failed := s.fail != nil
	s.mu.Unlock()
	switch {
	case !ok || strings.TrimPrefix(r.URL.Path, "/") != p.key || time.Now().After(p.until):
		http.Error(w, "AccessDenied", http.StatusForbidden)
	case failed:
		http.Error(w, "ServiceUnavailable", http.StatusServiceUnavailable)
	case !found:
		http.Error(w, "NoSuchKey", http.StatusNotFound)
	default:
		w.Header().Set("ETag", `"`+o.info.ETag+`"`)
		http.ServeContent(w, r, "", o.info.LastModified, bytes.NewReader(o.data))
	}
}

// Ping reports the outage SetFail set, if any.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.check()
}

var _ io.ReadSeekCloser = reader{}
