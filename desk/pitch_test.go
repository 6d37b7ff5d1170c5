package desk

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// xss are payloads a guest might type, each of which must come out as text.
var xss = []string{`<script>alert("pitch")</script>`, `"><img src=x onerror=alert(1)>`, `javascript:alert(1)`, `<a href="javascript:alert(2)">me</a>`}

func xssPitch() url.Values {
	return url.Values{"name": {xss[0] + " Ana"}, "email": {"ana@example.com"}, "role": {xss[1]}, "company": {xss[3]},
		"topic": {"async", "flask", "<b>not a topic</b>"}, "story": {"We run Flask on VMs.\n" + xss[0] + xss[1]},
		"links": {"https://example.com/talk\n" + xss[2]}, "consent": {"yes"}}
}

func TestPitch(t *testing.T) {
	t.Run("ErrInvalid", func(t *testing.T) {
		h := mustHarness(t)
		f := xssPitch()
		code, body, _ := h.do("POST", "/pitch/", f)
		if code != http.StatusBadRequest || !strings.Contains(body, "is not an http(s) address") {
			t.Fatalf("a javascript: link: %d, want 400 saying why", code)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("the form sent back interprets what the guest typed:\n%s", body)
		}
		f.Set("links", "https://example.com/talk")
		f.Del("consent")
		if code, body, _ := h.do("POST", "/pitch/", f); code != http.StatusBadRequest || !strings.Contains(body, "Tick the box") {
			t.Errorf("no consent: %d", code)
		}
		if ps, _ := catalog.New(h.store).Pitches(context.Background()); len(ps) != 0 {
			t.Errorf("an invalid pitch was stored")
		}
	})
	t.Run("OK", func(t *testing.T) {
		h := mustHarness(t)
		code, body, _ := h.do("GET", "/pitch/", nil)
		if code != 200 || !strings.Contains(body, `value="async"`) || !strings.Contains(body, `value="falcon"`) || !strings.Contains(body, "Python in Production") {
			t.Fatalf("the form: %d, without the show's topics (show.yaml's and the episodes' tags)", code)
		}
		f := xssPitch()
		f.Set("links", "https://example.com/talk")
		if code, body, _ = h.do("POST", "/pitch/", f); code != 200 || !strings.Contains(body, "Thank you") {
			t.Fatalf("pitch: %d %s", code, body)
		}
		ps, err := catalog.New(h.store).Pitches(context.Background())
		if err != nil || len(ps) != 1 {
			t.Fatalf("stored %d pitches (%v), want 1", len(ps), err)
		}
		p := ps[0]
		if p.Name != xss[0]+" Ana" || p.Status != pipeline.PitchNew || strings.Join(p.Topics, ",") != "async,flask" || !p.Consent {
			t.Errorf("stored %+v", p)
		}
		if len(h.queue.pitches) != 1 || h.queue.pitches[0].ID != p.ID || !strings.HasSuffix(h.queue.pitches[0].DeskURL, "/admin/shows/_/pitches/"+p.ID) {
			t.Errorf("pitch.received not announced: %+v", h.queue.pitches)
		}
		// The desk shows it, escaped, in the inbox and on its page.
		h.mustLogin()
		for _, path := range []string{"/admin/shows/_/pitches/", "/admin/shows/_/pitches/" + p.ID, "/admin/shows/_/new?pitch=" + p.ID} {
			code, body, _ := h.do("GET", path, nil)
			if code != 200 || !strings.Contains(body, "Ana") {
				t.Errorf("%s: %d, no pitch", path, code)
			}
			for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript:`} {
				if strings.Contains(body, bad) {
					t.Errorf("%s interprets what the guest typed (%s)", path, bad)
				}
			}
		}
		_, body, _ = h.do("GET", "/admin/shows/_/new?pitch="+p.ID, nil)
		if !strings.Contains(body, "| https://example.com/talk") || !strings.Contains(body, `value="flask" checked`) {
			t.Errorf("the episode draft is not prefilled with the guest and topics")
		}
		if code, _, _ := h.do("POST", "/admin/shows/_/pitches/"+p.ID+"/status", url.Values{"csrf_token": {h.csrf}, "status": {"accepted"}}); code != http.StatusSeeOther {
			t.Errorf("status: %d", code)
		}
		if code, _, _ := h.do("POST", "/admin/shows/_/pitches/"+p.ID+"/status", url.Values{"csrf_token": {h.csrf}, "status": {"<b>"}}); code != http.StatusBadRequest {
			t.Errorf("a bad status: %d, want 400", code)
		}
		if got, _ := catalog.New(h.store).Pitch(context.Background(), p.ID); got.Status != pipeline.PitchAccepted {
			t.Errorf("status is %s, want accepted", got.Status)
		}
		if code, _, _ := h.do("POST", "/admin/shows/_/pitches/"+p.ID+"/delete", url.Values{"csrf_token": {h.csrf}}); code != http.StatusSeeOther {
			t.Errorf("delete: %d", code)
		}
		if _, err := catalog.New(h.store).Pitch(context.Background(), p.ID); err == nil {
			t.Errorf("the guest's data is still there after delete")
		}
	})
	t.Run("Honeypot", func(t *testing.T) {
		h := mustHarness(t)
		f := xssPitch()
		f.Set("links", "")
		f.Set(honeypot, "http://spam.test")
		if code, body, _ := h.do("POST", "/pitch/", f); code != 200 || !strings.Contains(body, "Thank you") {
			t.Errorf("a bot should see the thank-you page: %d", code)
		}
		if ps, _ := catalog.New(h.store).Pitches(context.Background()); len(ps) != 0 || len(h.queue.pitches) != 0 {
			t.Errorf("a pitch with the honeypot filled was kept")
		}
	})
	t.Run("ErrTooMany", func(t *testing.T) {
		h := mustHarness(t)
		f := xssPitch()
		f.Set("links", "")
		for i := 0; i < pitchPerHour; i++ {
			if code, _, _ := h.do("POST", "/pitch/", f); code != 200 {
				t.Fatalf("pitch %d: %d", i+1, code)
			}
		}
		code, body, hdr := h.do("POST", "/pitch/", f)
		if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.Contains(body, "try again later") {
			t.Errorf("pitch %d in an hour: %d, want 429", pitchPerHour+1, code)
		}
		if ps, _ := catalog.New(h.store).Pitches(context.Background()); len(ps) != pitchPerHour {
			t.Errorf("stored %d, want %d", len(ps), pitchPerHour)
		}
	})
	t.Run("ErrTooBig", func(t *testing.T) {
		h := mustHarness(t)
		f := xssPitch()
		f.Set("story", strings.Repeat("a", pitchMaxBytes))
		if code, body, _ := h.do("POST", "/pitch/", f); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "longer than 10 KB") {
			t.Errorf("an 11 KB pitch: %d, want 413", code)
		}
	})
	t.Run("ErrNoShow", func(t *testing.T) {
		h := mustHarness(t)
		if code, _, _ := h.do("GET", "/admin/shows/nope/pitches/", nil); code != http.StatusSeeOther {
			t.Errorf("without a session: %d", code)
		}
		h.mustLogin()
		for _, path := range []string{"/admin/shows/nope/pitches/", "/admin/shows/_/pitches/..%2F..%2Fcatalog%2Ffalcon-on-vms", "/admin/shows/_/pitches/x"} {
			if code, _, _ := h.do("GET", path, nil); code != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, code)
			}
		}
	})
}

// TestPitchFlood: 50 pitches at once from the addresses of one IPv6 /64
// store at most pitchPerHour, the rest get 429; the show's webhooks hear
// of the first at once and of the others in one digest.
func TestPitchFlood(t *testing.T) {
	h := mustHarness(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := xssPitch()
			f.Set("links", "https://example.com/talk")
			req, _ := http.NewRequest("POST", h.srv.URL+"/pitch/", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Test-Client", "2001:db8:77:1::"+strconv.FormatInt(int64(i+1), 16))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	ps, err := catalog.New(h.store).Pitches(context.Background())
	if err != nil || len(ps) > pitchPerHour || len(ps) == 0 {
		t.Errorf("50 concurrent pitches from one /64: %d stored (%v), answers %v; want 1 to %d", len(ps), err, codes, pitchPerHour)
	}
	if codes[http.StatusOK] != len(ps) || codes[http.StatusTooManyRequests] != 50-len(ps) {
		t.Errorf("answers %v for %d stored", codes, len(ps))
	}
	h.queue.mu.Lock()
	announced, digests := len(h.queue.pitches), len(h.queue.digests)
	h.queue.mu.Unlock()
	if announced != 1 || len(ps) > 1 && digests != 1 {
		t.Errorf("%d pitches stored: %d announced at once and %d digests; want 1 and one digest for the rest",
			len(ps), announced, digests)
	}
	// Another /64 is not limited by this one.
	f := xssPitch()
	f.Set("links", "https://example.com/talk")
	if code, _, _ := h.do("POST", "/pitch/", f, "X-Test-Client", "2001:db8:78:1::1"); code != http.StatusOK {
		t.Errorf("a pitch from another /64: %d, want 200", code)
	}
}

// TestPitchInvalidKeepsSlot: a pitch refused as invalid does not use up
// the guest's hour.
func TestPitchInvalidKeepsSlot(t *testing.T) {
	h := mustHarness(t)
	bad := xssPitch() // its javascript: link is refused
	for range pitchPerHour + 2 {
		if code, _, _ := h.do("POST", "/pitch/", bad); code != http.StatusBadRequest {
			t.Fatalf("an invalid pitch: %d, want 400", code)
		}
	}
	good := xssPitch()
	good.Set("links", "https://example.com/talk")
	if code, _, _ := h.do("POST", "/pitch/", good); code != http.StatusOK {
		t.Errorf("a good pitch after invalid ones: %d, want 200", code)
	}
}
