package embedded

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"
)

// Services are the running embedded Redis and S3.
type Services struct {
	RedisURL   string `json:"redis_url"`
	S3Endpoint string `json:"s3_endpoint"`
	AccessKey  string `json:"access_key"`
	SecretKey  string `json:"secret_key"`
	PID        int    `json:"pid"`

	redis  *miniredis.Miniredis
	cancel context.CancelFunc
	done   chan error
	file   string
}

// StateFile is where `up` records the embedded services' addresses, so that
// `prodcast status --data DIR` can reach them.
func StateFile(dir string) string { return filepath.Join(dir, ".prodcast", "embedded.json") }

// ObjectsDir is where the embedded S3 server keeps the objects of dir.
func ObjectsDir(dir string) string { return filepath.Join(dir, "s3") }

// Load reads the addresses a running `up` recorded for dir.
func Load(dir string) (*Services, error) {
	data, err := os.ReadFile(StateFile(dir))
	if err != nil {
		return nil, err
	}
	var s Services
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("cannot parse %s: %w", StateFile(dir), err)
	}
	return &s, nil
}

// Start runs miniredis and versitygw. dir must be absolute: the posix
// backend changes the process's working directory.
func Start(ctx context.Context, dir string) (*Services, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("embedded services need an absolute data folder, got %q", dir)
	}
	root, side := ObjectsDir(dir), filepath.Join(dir, ".prodcast", "s3-meta")
	for _, d := range []string{root, side} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create %s: %w", d, err)
		}
	}
	access, secret, err := credentials(filepath.Join(dir, ".prodcast", "s3-credentials.json"))
	if err != nil {
		return nil, err
	}
	password, err := secretFile(filepath.Join(dir, ".prodcast", "redis-password"))
	if err != nil {
		return nil, err
	}
	// Loopback only, and a password: another local user could otherwise
	// read a desk session from it and log in.
	r := miniredis.NewMiniRedis()
	r.RequireAuth(password)
	if err := r.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("cannot start embedded Redis: %w", err)
	}
	port, err := freePort()
	if err != nil {
		r.Close()
		return nil, err
	}
	sc, err := meta.NewSideCar(side)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("cannot open S3 metadata folder: %w", err)
	}
	be, err := posix.New(root, sc, posix.PosixOpts{SideCarDir: side, Concurrency: 64, CopyObjectThreshold: 5 << 30})
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("cannot open embedded S3 store at %s: %w", root, err)
	}
	gctx, cancel := context.WithCancel(context.Background())
	s := &Services{
		RedisURL: "redis://:" + password + "@" + r.Addr(), S3Endpoint: "http://" + port,
		AccessKey: access, SecretKey: secret, PID: os.Getpid(),
		redis: r, cancel: cancel, done: make(chan error, 1), file: StateFile(dir),
	}
	go func() {
		s.done <- embedgw.RunVersityGW(gctx, be, &embedgw.Config{
			RootUserAccess: access, RootUserSecret: secret,
			Ports: []string{port}, Quiet: true,
			MaxConnections: 1024, MaxRequests: 512,
			AdminMaxConnections: 64, AdminMaxRequests: 32,
			MultipartMaxParts: 10000,
		})
	}()
	if err := waitListening(ctx, port, s.done); err != nil {
		s.Close()
		return nil, fmt.Errorf("embedded S3 server did not start: %w", err)
	}
	data, _ := json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(s.file, data, 0o600); err != nil {
		s.Close()
		return nil, fmt.Errorf("cannot write %s: %w", s.file, err)
	}
	return s, nil
}

// Close stops both services. Redis is in memory: its queue is rebuilt from
// the catalog at the next start.
func (s *Services) Close() error {
	s.cancel()
	var err error
	select {
	case err = <-s.done:
	case <-time.After(10 * time.Second):
		err = errors.New("embedded S3 server did not stop in 10s")
	}
	s.redis.Close()
	os.Remove(s.file)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func credentials(path string) (string, string, error) {
	var c struct{ Access, Secret string }
	if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &c) == nil && c.Access != "" {
		return c.Access, c.Secret, nil
	}
	b := make([]byte, 30)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	c.Access, c.Secret = "prodcast"+hex.EncodeToString(b[:6]), hex.EncodeToString(b[6:])
	data, _ := json.Marshal(c)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", "", fmt.Errorf("cannot write %s: %w", path, err)
	}
	return c.Access, c.Secret, nil
}

// secretFile reads a random secret from path, making it (mode 0600) the
// first time.
func secretFile(path string) (string, error) {
	if data, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(data))) >= 32 {
		return strings.TrimSpace(string(data)), nil
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("cannot write %s: %w", path, err)
	}
	return secret, nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("cannot find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitListening(ctx context.Context, addr string, done <-chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("nothing listens on %s after 15s", addr)
}
