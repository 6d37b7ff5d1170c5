package fetch

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counting is a loopback server that counts the requests it gets.
func counting(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestInputRefusesPrivate(t *testing.T) {
	target, hits := counting(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret") })
	t.Setenv(AllowPrivateEnv, "")
	c := New(Options{})
	var wg sync.WaitGroup
	for _, u := range []string{target.URL, strings.Replace(target.URL, "127.0.0.1", "localhost", 1),
		strings.Replace(target.URL, "127.0.0.1", "[::ffff:127.0.0.1]", 1)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(t.Context(), u, Input)
			if err == nil {
				resp.Body.Close()
			}
			if !errors.Is(err, ErrPrivate) || !strings.Contains(err.Error(), AllowPrivateEnv) {
				t.Errorf("GET %s from input: %v; want it refused as private, naming %s", u, err, AllowPrivateEnv)
			}
		}()
	}
	wg.Wait()
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached a loopback server from input", n)
	}
	t.Setenv(AllowPrivateEnv, "1")
	resp, err := New(Options{}).Get(t.Context(), target.URL, Input)
	if err != nil {
		t.Fatalf("with %s=1: %v", AllowPrivateEnv, err)
	}
	resp.Body.Close()
}

// TestConfiguredRedirects: a configured endpoint may be private, but its
// redirect to a private address is not followed.
func TestConfiguredRedirects(t *testing.T) {
	t.Setenv(AllowPrivateEnv, "")
	inner, innerHits := counting(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "redis") })
	hook, _ := counting(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jump" {
			http.Redirect(w, r, inner.URL+"/", http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	})
	c := New(Options{})
	resp, err := c.Get(t.Context(), hook.URL+"/", Configured)
	if err != nil {
		t.Fatalf("a configured loopback endpoint: %v", err)
	}
	resp.Body.Close()
	if _, err := c.Get(t.Context(), hook.URL+"/jump", Configured); !errors.Is(err, ErrPrivate) {
		t.Errorf("a configured endpoint's redirect to another private address: %v; want it refused", err)
	}
	if n := innerHits.Load(); n != 0 {
		t.Errorf("the redirect reached the private address %d times", n)
	}
}

func TestLimits(t *testing.T) {
	t.Setenv(AllowPrivateEnv, "1")
	srv, _ := counting(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/big":
			w.Write(make([]byte, 2000))
		case "/exact":
			w.Write(make([]byte, 1000))
		case "/slow":
			time.Sleep(2 * time.Second)
		}
	})
	c := New(Options{MaxBytes: 1000, Timeout: 500 * time.Millisecond})
	if _, err := c.Get(t.Context(), srv.URL+"/loop", Input); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("a redirect loop: %v", err)
	}
	read := func(path string) error {
		resp, err := c.Get(t.Context(), srv.URL+path, Input)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return err
	}
	if err := read("/big"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("2000 bytes with a limit of 1000: %v", err)
	}
	if err := read("/exact"); err != nil {
		t.Errorf("1000 bytes with a limit of 1000: %v", err)
	}
	start := time.Now()
	if err := read("/slow"); err == nil || time.Since(start) > 1500*time.Millisecond {
		t.Errorf("a server that does not answer: %v after %s", err, time.Since(start))
	}
}

func TestPrivate(t *testing.T) {
	for a, want := range map[string]bool{
		"127.0.0.1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true, "169.254.169.254": true,
		"100.64.0.1": true, "0.0.0.0": true, "::1": true, "::": true, "fe80::1": true, "fd00::1": true,
		"::ffff:10.0.0.1": true, "64:ff9b::a9fe:a9fe": true, "224.0.0.1": true, "255.255.255.255": true,
		"93.184.216.34": false, "2606:4700::1111": false, "8.8.8.8": false, "64:ff9b::808:808": false,
	} {
		if got := Private(netip.MustParseAddr(a)); got != want {
			t.Errorf("Private(%s) = %v, want %v", a, got, want)
		}
	}
}
