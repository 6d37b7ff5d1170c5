package desk

import (
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClientIP is the harness's client address: the X-Test-Client header
// when a test sets it (to play several addresses), else the peer's.
func testClientIP(r *http.Request) netip.Addr {
	if a, err := netip.ParseAddr(r.Header.Get("X-Test-Client")); err == nil {
		return a
	}
	a, _ := netip.ParseAddrPort(r.RemoteAddr)
	return a.Addr()
}

// loginFrom posts a login for name from the address from, with a fresh
// client (a new login cookie each time, as a script would).
func (h *harness) loginFrom(from, name, password string) int {
	h.t.Helper()
	c := newClient()
	req, _ := http.NewRequest("GET", h.srv.URL+"/admin/login", nil)
	req.Header.Set("X-Test-Client", from)
	resp, err := c.Do(req)
	if err != nil {
		h.t.Error(err)
		return 0
	}
	var tok string
	for _, ck := range resp.Cookies() {
		if ck.Name == loginCSRFCookie {
			tok = ck.Value
		}
	}
	resp.Body.Close()
	form := url.Values{"username": {name}, "password": {password}, "csrf_token": {tok}}
	req, _ = http.NewRequest("POST", h.srv.URL+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Test-Client", from)
	resp, err = c.Do(req)
	if err != nil {
		h.t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// flood sends n logins at once and counts the answers by status.
func (h *harness) flood(n int, from func(i int) string, name func(i int) string) map[int]int {
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := h.loginFrom(from(i), name(i), "wrong guess")
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return codes
}

// TestLoginLimitRace: 50 wrong logins at once from one address are
// checked at most loginTries times; the rest get 429. The slot is taken
// before the password is checked, so they cannot overtake the count.
func TestLoginLimitRace(t *testing.T) {
	h := mustHarness(t)
	codes := h.flood(50, func(int) string { return "203.0.113.7" }, func(i int) string { return "user" + strconv.Itoa(i) })
	if codes[http.StatusUnauthorized] > loginTries || codes[http.StatusUnauthorized]+codes[http.StatusTooManyRequests] != 50 {
		t.Errorf("50 concurrent wrong logins from one address: %v; want at most %d checked (401), the rest 429", codes, loginTries)
	}
	if codes[http.StatusUnauthorized] == 0 {
		t.Errorf("no login was checked at all: %v", codes)
	}
}

// TestLoginLimitPer64: the addresses of one IPv6 /64 share one limit.
func TestLoginLimitPer64(t *testing.T) {
	h := mustHarness(t)
	codes := h.flood(30, func(i int) string { return "2001:db8:1:2::" + strconv.FormatInt(int64(i+1), 16) },
		func(i int) string { return "user" + strconv.Itoa(i) })
	if codes[http.StatusUnauthorized] > loginTries {
		t.Errorf("30 wrong logins from 30 addresses of one /64: %v; want at most %d checked", codes, loginTries)
	}
	if got := h.loginFrom("2001:db8:1:3::1", "ana", testPassword); got != http.StatusSeeOther {
		t.Errorf("the owner from another /64: %d, want 303", got)
	}
}

// TestOwnerLogsInDuringAttack: an attacker hammering one account from
// its address locks that account for its address only; its owner logs in
// from another address at once.
func TestOwnerLogsInDuringAttack(t *testing.T) {
	h := mustHarness(t)
	var wg sync.WaitGroup
	var stop atomic.Bool
	var tries atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				h.loginFrom("198.51.100.66", "ana", "guess")
				tries.Add(1)
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for tries.Load() < 30 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := h.loginFrom("192.0.2.10", "ana", testPassword)
	stop.Store(true)
	wg.Wait()
	if got != http.StatusSeeOther {
		t.Errorf("the owner's right password from her own address during an attack on her account: %d, want 303", got)
	}
	if got := h.loginFrom("198.51.100.66", "ana", testPassword); got != http.StatusTooManyRequests {
		t.Errorf("the attacker's address after %d tries: %d, want 429", tries.Load(), got)
	}
}

// TestLoginMemoryBounded: 50 logins at once from 50 addresses check at
// most loginChecks passwords at a time (64 MiB each), so the heap stays
// well under 300 MB. The heap is sampled while they run.
func TestLoginMemoryBounded(t *testing.T) {
	h := mustHarness(t)
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
		}
	}()
	codes := h.flood(50, func(i int) string { return "192.0.2." + strconv.Itoa(i+1) }, func(i int) string { return "ana" })
	close(done)
	if codes[http.StatusUnauthorized] == 0 {
		t.Fatalf("no password was checked: %v", codes)
	}
	if p := peak.Load(); p > 300<<20 {
		t.Errorf("the heap reached %d MB under 50 concurrent logins; want under 300 MB", p>>20)
	}
	t.Logf("50 concurrent logins: %v, heap peak %d MB", codes, peak.Load()>>20)
}
