package desk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline/bundle"
	"github.com/prodcast/prodcast/pipeline/catalog"
)

// tusMeta encodes Upload-Metadata.
func tusMeta(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(parts, ",")
}

// tus sends one tus request with the session's CSRF header.
func (h *harness) tus(method, path string, body []byte, header ...string) *http.Response {
	h.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = h.srv.URL + path
	}
	req, _ := http.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("X-CSRF-Token", h.csrf)
	if method == "PATCH" {
		req.Header.Set("Content-Type", "application/offset+octet-stream")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestUpload(t *testing.T) {
	recording := bytes.Repeat([]byte("RIFF-not-really-audio-"), 20000) // 440 KB
	t.Run("ResumedAfterACut", func(t *testing.T) {
		h := mustHarness(t)
		h.mustLogin()
		resp := h.tus("POST", "/admin/uploads/", nil, "Upload-Length", strconv.Itoa(len(recording)),
			"Upload-Metadata", tusMeta("filename", "../../etc/passwd", "show", "_"))
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusCreated || loc == "" {
			t.Fatalf("create: %d", resp.StatusCode)
		}
		half := len(recording) / 2
		if resp = h.tus("PATCH", loc, recording[:half], "Upload-Offset", "0"); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("first half: %d", resp.StatusCode)
		}
		if got, _ := os.ReadDir(filepath.Join(h.data, "drop")); len(got) != 0 {
			t.Fatalf("drop/ holds %d entries before the upload is whole", len(got))
		}
		resp = h.tus("HEAD", loc, nil)
		if resp.Header.Get("Upload-Offset") != strconv.Itoa(half) {
			t.Fatalf("HEAD after the cut: offset %q, want %d", resp.Header.Get("Upload-Offset"), half)
		}
		if resp = h.tus("PATCH", loc, recording[half:], "Upload-Offset", strconv.Itoa(half)); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("second half: %d", resp.StatusCode)
		}
		got, err := os.ReadFile(filepath.Join(h.data, "drop", "passwd"))
		if err != nil || !bytes.Equal(got, recording) {
			t.Fatalf("drop/passwd: %v (%d bytes of %d)", err, len(got), len(recording))
		}
		if _, err := os.Stat(filepath.Join(h.data, "..", "etc", "passwd")); err == nil {
			t.Errorf("the upload escaped the data folder")
		}
		if left := entries(t, filepath.Join(h.data, stagingDir, "tus")); left != "" {
			t.Errorf("the staging folder keeps %s after the move", left)
		}
	})
	t.Run("WithNotes", func(t *testing.T) {
		h := mustHarness(t)
		h.mustLogin()
		code, body, _ := h.do("POST", "/admin/shows/_/drafts", url.Values{"csrf_token": {h.csrf}, "title": {"Async Flask <b>today</b>"},
			"guests": {"Ana | SRE"}, "tag": {"async"}, "notes": {"We talk."}})
		var draft struct{ ID string }
		if code != 200 || json.Unmarshal([]byte(body), &draft) != nil || draft.ID == "" {
			t.Fatalf("draft: %d %s", code, body)
		}
		resp := h.tus("POST", "/admin/uploads/", recording, "Upload-Length", strconv.Itoa(len(recording)),
			"Upload-Metadata", tusMeta("filename", "talk.wav", "show", "_", "draft", draft.ID), "Content-Type", "application/offset+octet-stream")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create with the body: %d", resp.StatusCode)
		}
		dir := filepath.Join(h.data, "drop", "async-flask-b-today-b")
		if got := entries(t, dir); got != "episode.md,talk.wav" {
			t.Fatalf("the bundle holds %q", got)
		}
		md, _ := os.ReadFile(filepath.Join(dir, "episode.md"))
		meta, _, err := bundle.ParseNotes(md)
		if err != nil || meta.Title != "Async Flask <b>today</b>" || meta.Guests[0].Name != "Ana" {
			t.Errorf("episode.md: %v %+v", err, meta)
		}
	})
	t.Run("ErrTooBig", func(t *testing.T) {
		h := mustHarness(t)
		h.mustLogin()
		resp := h.tus("POST", "/admin/uploads/", nil, "Upload-Length", strconv.Itoa(2<<20), "Upload-Metadata", tusMeta("filename", "a.wav", "show", "_"))
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("2 MB over a 1 MB limit: %d, want 413", resp.StatusCode)
		}
	})
	t.Run("ErrBadMetadata", func(t *testing.T) {
		h := mustHarness(t)
		h.mustLogin()
		for name, meta := range map[string]string{
			"no filename":  tusMeta("show", "_"),
			"unknown show": tusMeta("filename", "a.wav", "show", "nope"),
			"a path show":  tusMeta("filename", "a.wav", "show", "../.."),
			"a bad draft":  tusMeta("filename", "a.wav", "show", "_", "draft", "../../users"),
			"a gone draft": tusMeta("filename", "a.wav", "show", "_", "draft", strings.Repeat("a", 32)),
		} {
			if resp := h.tus("POST", "/admin/uploads/", nil, "Upload-Length", "10", "Upload-Metadata", meta); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", name, resp.StatusCode)
			}
		}
		if resp := h.tus("POST", "/admin/uploads/", nil, "Upload-Defer-Length", "1", "Upload-Metadata", tusMeta("filename", "a.wav", "show", "_")); resp.StatusCode < 400 {
			t.Errorf("a deferred length: %d, want it refused", resp.StatusCode)
		}
	})
	t.Run("ErrNoCSRF", func(t *testing.T) {
		h := mustHarness(t)
		h.mustLogin()
		h.csrf = "forged"
		if resp := h.tus("POST", "/admin/uploads/", nil, "Upload-Length", "10", "Upload-Metadata", tusMeta("filename", "a.wav", "show", "_")); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a forged token: %d, want 403", resp.StatusCode)
		}
	})
}

// TestSweep finishes an upload that arrived whole but was not moved, and
// removes one abandoned for a day.
func TestSweep(t *testing.T) {
	h := mustHarness(t)
	tusDir := filepath.Join(h.data, stagingDir, "tus")
	write := func(id string, size int64, data []byte, age time.Duration) {
		info, _ := json.Marshal(map[string]any{"ID": id, "Size": size, "Offset": len(data), "MetaData": map[string]string{"filename": id + ".wav", "show": "_"}})
		os.WriteFile(filepath.Join(tusDir, id+".info"), info, 0o644)
		os.WriteFile(filepath.Join(tusDir, id), data, 0o644)
		old := time.Now().Add(-age)
		os.Chtimes(filepath.Join(tusDir, id), old, old)
	}
	write("whole", 4, []byte("RIFF"), time.Hour)
	write("abandoned", 100, []byte("RIFF"), 25*time.Hour)
	write("fresh", 100, []byte("RIFF"), time.Hour)
	h.desk.uploads.sweep(context.Background(), time.Now())
	if got := entries(t, filepath.Join(h.data, "drop")); got != "whole.wav" {
		t.Errorf("drop/ holds %q, want the whole upload", got)
	}
	if got := entries(t, tusDir); got != "fresh,fresh.info" {
		t.Errorf("staging keeps %q, want only the fresh upload", got)
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"talk.wav": "talk.wav", "../../etc/passwd": "passwd", `..\..\boot.ini`: "boot.ini", ".hidden.wav": "hidden.wav",
		"a/b/../c.flac": "c.flac", "": "recording", "..": "recording", "épisode 1 (final).m4a": "épisode 1 -final-.m4a",
		"x.part": "recording.part", strings.Repeat("a", 200) + ".wav": strings.Repeat("a", 116) + ".wav", "a\x00b.wav": "a-b.wav",
	} {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUploadToAShow puts a recording into the drop/ of a show under
// shows/, and its pitch form answers for that show.
func TestUploadToAShow(t *testing.T) {
	h := mustHarness(t)
	ctx := context.Background()
	dir := filepath.Join(h.data, "shows", "python-weekly")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "show.yaml"), []byte(strings.Replace(showYAML, "Python in Production", "Python Weekly", 1)), 0o644)
	if err := catalog.ForShow(h.store, "python-weekly").PutShow(ctx, []byte(strings.Replace(showYAML, "Python in Production", "Python Weekly", 1))); err != nil {
		t.Fatal(err)
	}
	h.mustLogin()
	if code, body, _ := h.do("GET", "/admin/", nil); code != 200 || !strings.Contains(body, "Python Weekly") {
		t.Fatalf("the desk does not list the second show: %d", code)
	}
	resp := h.tus("POST", "/admin/uploads/", []byte("RIFF"), "Upload-Length", "4", "Content-Type", "application/offset+octet-stream",
		"Upload-Metadata", tusMeta("filename", "weekly.wav", "show", "python-weekly"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	if got := entries(t, filepath.Join(dir, "drop")); got != "weekly.wav" {
		t.Errorf("shows/python-weekly/drop holds %q", got)
	}
	if _, err := os.Stat(filepath.Join(h.data, "drop", "weekly.wav")); err == nil {
		t.Errorf("the upload went to the root show")
	}
	req := httptest.NewRequest("GET", "/python-weekly/pitch/", nil)
	req.SetPathValue("show", "python-weekly")
	w := httptest.NewRecorder()
	h.desk.Pitch().ServeHTTP(w, req)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Be a guest on Python Weekly") || !strings.Contains(w.Body.String(), `action="/python-weekly/pitch/"`) {
		t.Errorf("/python-weekly/pitch/: %d\n%s", w.Code, w.Body.String())
	}
}
