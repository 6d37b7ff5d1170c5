package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// BenchmarkFeedFromMemory is the handler's own cost of a kept feed's
// gzip 200 and 304, without a network.
func BenchmarkFeedFromMemory(b *testing.B) {
	st := memstore.New()
	st.PutBytes(context.Background(), "public/feed.xml", []byte("<rss>"+strings.Repeat("<item>episode about async Python</item>", 30000)+"</rss>"),
		pipeline.Put{ContentType: "application/rss+xml"})
	h := New(Config{Store: st})
	req := httptest.NewRequest("GET", "/feed.xml", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	etag := w.Header().Get("ETag")
	for _, tc := range []struct{ name, inm string }{{"200gzip", ""}, {"304", etag}} {
		b.Run(tc.name, func(b *testing.B) {
			r := req.Clone(context.Background())
			if tc.inm != "" {
				r.Header.Set("If-None-Match", tc.inm)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := &discard{h: http.Header{}}
				h.ServeHTTP(w, r)
			}
		})
	}
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
