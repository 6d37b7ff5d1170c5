package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// TestDiskCache: media is answered from the bucket once while a copy is
// made, then from the copy, ranges included, with the same bytes; a copy
// whose object went (a withdrawn episode) is not served once it is
// checked again, and its file goes; the folder keeps to its size.
func TestDiskCache(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memstore.New()}
	body := bytes.Repeat([]byte("0123456789"), 300_000) // 3 MB
	key := "public/media/ep/abc.mp3"
	if err := st.PutBytes(ctx, key, body, pipeline.Put{ContentType: "audio/mpeg"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, h := newServer(Config{Store: st, Log: slog.New(slog.DiscardHandler), MediaCacheDir: dir, MediaCacheSize: 100 << 20})
	get := func(rng string) (int, []byte) {
		req := httptest.NewRequest(http.MethodGet, "/media/ep/abc.mp3", nil)
		req.Header.Set("Range", rng)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes()
	}
	if code, b := get("bytes=1000000-1999999"); code != 206 || !bytes.Equal(b, body[1000000:2000000]) {
		t.Fatalf("first range: %d, %d bytes", code, len(b))
	}
	// The copy is made in the background: wait until it is kept.
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv.disk.mu.Lock()
		kept := srv.disk.entries[key] != nil
		srv.disk.mu.Unlock()
		if kept || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if copies, _ := filepath.Glob(filepath.Join(dir, "obj-*")); len(copies) != 1 {
		t.Fatalf("%d copies in the media folder, want 1", len(copies))
	}
	opens := st.opens.Load()
	for range 3 {
		if code, b := get("bytes=2000000-2999999"); code != 206 || !bytes.Equal(b, body[2000000:]) {
			t.Fatalf("range from the copy: %d, %d bytes", code, len(b))
		}
	}
	if st.opens.Load() != opens {
		t.Errorf("the bucket was read %d times more; the copy should answer", st.opens.Load()-opens)
	}

	// Withdrawn: once the copy is checked again, it is gone.
	now := time.Now()
	d, err := newDiskCache(t.TempDir(), 7<<20, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	d.now = func() time.Time { return now }
	if err := d.copy(ctx, key); err != nil {
		t.Fatal(err)
	}
	f, _, done, ok := d.open(ctx, key)
	if !ok {
		t.Fatal("no copy after copy")
	}
	path := f.Name()
	done()
	if err := st.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, _, done, ok := d.open(ctx, key); !ok {
		t.Error("within CacheFresh the copy answers (as kept objects do)")
	} else {
		done()
	}
	now = now.Add(CacheFresh)
	if _, _, _, ok := d.open(ctx, key); ok {
		t.Error("a copy of a deleted object was served after it was checked")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the copy's file stays: %v", err)
	}
	// Size: 7 MB holds two 3 MB copies; a third pushes out the oldest.
	for _, k := range []string{"public/media/a.mp3", "public/media/b.mp3", "public/media/c.mp3"} {
		if err := st.PutBytes(ctx, k, body, pipeline.Put{ContentType: "audio/mpeg"}); err != nil {
			t.Fatal(err)
		}
		if err := d.copy(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(d.dir, "obj-*"))
	if len(files) != 2 || d.size != 6_000_000 {
		t.Errorf("%d copies, %d bytes, want 2 and 6,000,000", len(files), d.size)
	}
	if _, _, _, ok := d.open(ctx, "public/media/a.mp3"); ok {
		t.Error("the oldest copy was not pushed out")
	}
	// More than half the folder: not copied, and not read again to find
	// that out for a minute. (The open of a.mp3 above is copying it again
	// in the background: only huge.mp3's reads are counted.)
	huge := bytes.Repeat([]byte("x"), 4<<20)
	if err := st.PutBytes(ctx, "public/media/huge.mp3", huge, pipeline.Put{ContentType: "audio/mpeg"}); err != nil {
		t.Fatal(err)
	}
	if err := d.copy(ctx, "public/media/huge.mp3"); err != nil {
		t.Fatal(err)
	}
	hugeOpens := st.opened("public/media/huge.mp3")
	d.fill("public/media/huge.mp3")
	time.Sleep(50 * time.Millisecond)
	if _, _, _, ok := d.open(ctx, "public/media/huge.mp3"); ok || st.opened("public/media/huge.mp3") != hugeOpens {
		t.Errorf("a file too big to copy was copied (%v) or read again (%d)", ok, st.opened("public/media/huge.mp3")-hugeOpens)
	}
}
