package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/memstore"
	"github.com/prodcast/prodcast/pipeline/mp3"
)

func TestPieceCount(t *testing.T) {
	h := &Handlers{slots: make(slots, 2)}
	for _, tc := range []struct {
		minutes float64
		want    int
	}{
		{25, 2},  // one piece a slot
		{180, 2}, // however long: no second round
		{1.5, 2}, // never fewer than two
	} {
		if got := h.pieceCount("", tc.minutes*60); got != tc.want {
			t.Errorf("%.1f minutes on 2 slots: %d pieces, want %d", tc.minutes, got, tc.want)
		}
	}
	h.slots = make(slots, 4) // two workers' worth
	if got := h.pieceCount("", 60*60); got != 4 {
		t.Errorf("an hour on 4 slots: %d pieces, want 4", got)
	}
	if got := h.pieceCount("", 150); got != 2 {
		t.Errorf("2.5 minutes on 4 slots: %d pieces, want 2 (never under a minute a piece)", got)
	}
}

func TestInPieces(t *testing.T) {
	m := &pipeline.Manifest{Original: pipeline.Original{Duration: 21 * 60}}
	for _, tc := range []struct {
		over time.Duration
		want bool
	}{{0, true}, {-1, false}, {30 * time.Minute, false}, {2 * time.Minute, true}} {
		if got := (&Handlers{SplitOver: tc.over}).inPieces(m.Original.Duration); got != tc.want {
			t.Errorf("21 minutes, split over %s: %v, want %v", tc.over, got, tc.want)
		}
	}
}

// TestPiecesEndToEnd runs an encode in pieces through the handlers, on
// the in-memory bucket with real ffmpeg: the encode plans and queues the
// pieces (and, asked again, only those missing), each piece is stored
// with its measurement, a stale task does nothing, the last piece queues
// the join, and the join records the episode encoded and cleans up.
func TestPiecesEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is not installed (Debian: apt-get install ffmpeg)")
	}
	ctx := context.Background()
	st, q := memstore.New(), &queue{}
	h := mustHandlers(st, q, &memLocker{})
	h.TempDir, h.SplitOver, h.slots = t.TempDir(), 2*time.Minute, make(slots, 2)
	cat := catalog.ForShow(st, "")
	if err := cat.PutShow(ctx, []byte(showYAML)); err != nil {
		t.Fatal(err)
	}
	wav := filepath.Join(t.TempDir(), "talk.wav")
	out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.2:seed=5:r=44100,tremolo=f=3:d=0.8",
		"-t", "150", "-ac", "2", "-c:a", "pcm_s16le", wav).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	data, _ := os.ReadFile(wav)
	sum := sha256.Sum256(data)
	orig := pipeline.Original{Name: "talk.wav", Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Duration: 150, Channels: 2, Codec: "pcm_s16le"}
	orig.Key = cat.Keys.OriginalKey("talk", orig.SHA256, orig.Name)
	st.PutBytes(ctx, orig.Key, data, pipeline.Put{})
	m := &pipeline.Manifest{Slug: "talk", State: pipeline.StateIngested, Bundle: "talk", BundleID: "b1",
		Meta: pipeline.Meta{Title: "A long talk", Slug: "talk"}, Original: orig,
		Chapters: []pipeline.Chapter{{Start: 0, Title: "Hello"}, {Start: 100, Title: "Flask"}}}
	if err := cat.PutManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	run := func(typ string, f func(context.Context, *asynq.Task) error, payload any) {
		t.Helper()
		b, _ := json.Marshal(payload)
		if err := f(ctx, asynq.NewTask(typ, b)); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	taken := func() []PiecePayload {
		q.mu.Lock()
		defer q.mu.Unlock()
		var out []PiecePayload
		for _, tk := range q.tasks {
			var p PiecePayload
			if json.Unmarshal(tk.Payload(), &p) == nil && (tk.Type() == TypeEpisodePiece || tk.Type() == TypeEpisodeJoin) {
				out = append(out, p)
			}
		}
		q.tasks = nil
		return out
	}

	ep := EpisodePayload{Slug: "talk", BundleID: "b1"}
	run(TypeEpisodeEncode, h.Encode, ep)
	// This manifest is from before the ingest kept the sample rate: the
	// plan probes the recording for it.
	if pl, err := h.readPlan(ctx, "", m); err != nil || pl.Rate != 44100 {
		t.Fatalf("the plan: %+v, %v; want the rate 44100", pl, err)
	}
	pieces := taken()
	if len(pieces) != 2 || pieces[0].Index != 0 || pieces[1].Index != 1 || pieces[0].Round != 1 {
		t.Fatalf("queued %+v, want pieces 0 and 1 of round 1", pieces)
	}
	run(TypeEpisodePiece, h.Piece, pieces[1])
	if got := taken(); len(got) != 1 || got[0].Index != 0 {
		t.Fatalf("after piece 1, queued %+v; want piece 0 again (not done), no join", got)
	}
	// Asked again (the reconciler), the encode queues only what is missing.
	run(TypeEpisodeEncode, h.Encode, ep)
	if got := taken(); len(got) != 1 || got[0].Index != 0 {
		t.Fatalf("the encode asked again queued %+v; want piece 0 alone", got)
	}
	stale := pieces[0]
	stale.Round = 2
	run(TypeEpisodePiece, h.Piece, stale)
	if _, err := st.Stat(ctx, pieceKey(cat.Keys.PiecesPrefix("talk", orig.SHA256), 2, 0, ".json")); err == nil {
		t.Error("a task of a round not planned encoded a piece")
	}
	taken()
	run(TypeEpisodePiece, h.Piece, pieces[0])
	join := taken()
	if len(join) != 1 || join[0].Index != -1 {
		t.Fatalf("after the last piece, queued %+v; want the join", join)
	}
	run(TypeEpisodeJoin, h.Join, join[0])

	m, err = cat.Manifest(ctx, "talk")
	if err != nil {
		t.Fatal(err)
	}
	if m.State != pipeline.StateEncoded || m.MP3 == nil || m.Loudness == nil {
		t.Fatalf("after the join: state %s, MP3 %+v, loudness %+v", m.State, m.MP3, m.Loudness)
	}
	file := filepath.Join(t.TempDir(), "ep.mp3")
	if err := st.GetFile(ctx, m.MP3.Key, file); err != nil {
		t.Fatal(err)
	}
	s, err := mp3.ReadFile(file)
	if err != nil || s.Length() != 150*44100 {
		t.Fatalf("the MP3: %v; length %d, want %d", err, s.Length(), 150*44100)
	}
	if d := m.Loudness.After.Integrated - m.Loudness.Target; d > 1 || d < -1 {
		t.Errorf("the pieces measure %.1f LUFS, the target is %.1f", m.Loudness.After.Integrated, m.Loudness.Target)
	}
	left, _ := st.List(ctx, cat.Keys.PiecesPrefix("talk", orig.SHA256))
	if len(left) != 0 {
		t.Errorf("%d objects of the pieces left after the join", len(left))
	}
	if q.types()[len(q.types())-1] != TypeEpisodePublish {
		t.Errorf("the join queued %v, want the publish last", q.types())
	}
	// A join queued twice finds the episode encoded and does nothing.
	run(TypeEpisodeJoin, h.Join, join[0])
	if copies, _ := filepath.Glob(filepath.Join(h.TempDir, originalsDir, "*")); len(copies) != 0 {
		t.Errorf("the local copies of the recording are still there: %v", copies)
	}
}
