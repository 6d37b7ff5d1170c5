package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prodcast/prodcast/pipeline/memstore"
	"github.com/prodcast/prodcast/web"
)

// TestMetricsNotPublic: /metrics shows download counts, queues and
// versions, so the public listener answers it only with its token, and
// never without one configured. Server.Metrics serves it elsewhere.
func TestMetricsNotPublic(t *testing.T) {
	for _, token := range []string{"", "s3cret-token"} {
		cfg := web.Config{Store: memstore.New(), Log: slog.New(slog.DiscardHandler), MetricsToken: token}
		ts := httptest.NewServer(web.New(cfg))
		var wg sync.WaitGroup
		for _, auth := range []string{"", "Bearer wrong", "Basic czNjcmV0LXRva2Vu", "Bearer ", "Bearer s3cret-token"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, body := get(t, ts.URL+"/metrics", "Authorization", auth)
				open := token != "" && auth == "Bearer "+token
				switch {
				case open && (resp.StatusCode != 200 || !strings.Contains(body, "go_goroutines")):
					t.Errorf("token %q, %q: %s; want the metrics", token, auth, resp.Status)
				case !open && (resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "go_goroutines")):
					t.Errorf("token %q, %q: %s %q; want 401 and no metrics", token, auth, resp.Status, body)
				case !open && resp.Header.Get("WWW-Authenticate") == "":
					t.Errorf("token %q, %q: 401 without WWW-Authenticate", token, auth)
				}
			}()
		}
		wg.Wait()
		ts.Close()
		own := httptest.NewServer(web.NewServer(cfg).Metrics())
		if resp, body := get(t, own.URL+"/metrics"); resp.StatusCode != 200 || !strings.Contains(body, "go_goroutines") {
			t.Errorf("Server.Metrics: %s", resp.Status)
		}
		own.Close()
	}
}
