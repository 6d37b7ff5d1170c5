package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// TestIngestArchived: a recording the watcher uploaded straight to its
// archive key is probed there (through a presigned URL) and neither copied
// nor deleted; a retry resumes from the bundle's ingested record; a key
// outside the archive is refused.
func TestIngestArchived(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Fatal("ffprobe is not installed (Debian: apt-get install ffmpeg)")
	}
	ctx := context.Background()
	st, q := memstore.New(), &queue{}
	h := mustHandlers(st, q, &memLocker{})
	cat := catalog.ForShow(st, "")
	if err := cat.PutShow(ctx, []byte(showYAML)); err != nil {
		t.Fatal(err)
	}
	wav := filepath.Join(t.TempDir(), "talk.wav")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=3", "-ac", "1", "-c:a", "pcm_s16le", wav).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	data, _ := os.ReadFile(wav)
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	notes := []byte("---\ntitle: A talk\n---\nNotes.\n")
	notesSum := sha256.Sum256(notes)
	orig := cat.Keys.OriginalKey("a-talk", sha, "talk.wav")
	st.PutBytes(ctx, orig, data, pipeline.Put{})
	st.PutBytes(ctx, cat.Keys.BundleFileKey("b1", "episode.md"), notes, pipeline.Put{})
	st.ResetWrites()
	payload := IngestPayload{BundleID: "b1", Bundle: "ep", Files: []pipeline.BundleFile{
		{Name: "episode.md", Bytes: int64(len(notes)), SHA256: hex.EncodeToString(notesSum[:])},
		{Name: "talk.wav", Bytes: int64(len(data)), SHA256: sha, Key: orig},
	}}
	ingest := func(p IngestPayload) error {
		b, _ := json.Marshal(p)
		return h.Ingest(ctx, asynq.NewTask(TypeBundleIngest, b))
	}
	if err := ingest(payload); err != nil {
		t.Fatal(err)
	}
	m, err := cat.Manifest(ctx, "a-talk")
	if err != nil {
		t.Fatal(err)
	}
	if m.Original.Key != orig || m.Original.Duration < 2.9 || m.Original.Codec != "pcm_s16le" || m.Original.SampleRate != 48000 {
		t.Errorf("the manifest's original: %+v", m.Original)
	}
	for _, w := range st.Writes() {
		if strings.HasSuffix(w, orig) {
			t.Errorf("the archived recording was written again: %s", w)
		}
	}
	if !slices.Contains(q.types(), TypeEpisodeEncode) {
		t.Errorf("queued %v, want the encode", q.types())
	}
	// A retry (the task sent again) resumes from the ingested record: it
	// writes no manifest.
	st.ResetWrites()
	if err := ingest(payload); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(st.Writes(), func(w string) bool { return strings.Contains(w, "catalog/") }) {
		t.Errorf("a retry ingested again: %v", st.Writes())
	}
	// A recording that is not in the archive as the watcher said (here,
	// not of the size it uploaded) is refused, for the producer to drop
	// again.
	bad := payload
	bad.BundleID, bad.Files = "b3", slices.Clone(payload.Files)
	bad.Files[1].Bytes++
	st.PutBytes(ctx, cat.Keys.BundleFileKey("b3", "episode.md"), notes, pipeline.Put{})
	if err := ingest(bad); err != nil {
		t.Fatal(err)
	}
	if res, err := cat.Result(ctx, "b3"); err != nil || res.OK || !strings.Contains(res.Problem, "not in the archive") {
		t.Errorf("a recording missing from the archive: %+v, %v", res, err)
	}
	// A key outside the archive is not read.
	payload.BundleID = "b2"
	st.PutBytes(ctx, cat.Keys.BundleFileKey("b2", "episode.md"), notes, pipeline.Put{})
	payload.Files[1].Key = cat.Keys.BundleFileKey("b1", "episode.md")
	if err := ingest(payload); err == nil || !strings.Contains(err.Error(), "outside the archive") {
		t.Errorf("a recording outside the archive: %v", err)
	}
}
