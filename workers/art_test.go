package workers

import (
	"context"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/memstore"
)

// TestArtSizesOnce: art is scaled the first time; the next episode with
// the same art (the same key, by its hash) finds every size stored and
// scales nothing; a size gone is made again.
func TestArtSizesOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	art := filepath.Join(dir, "art.jpg")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=teal:s=1400x1400", "-frames:v", "1", art).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg (from Debian's packages) makes the test art: %v: %s", err, out)
	}
	st := memstore.New()
	h := &Handlers{Store: st}
	keys := catalog.Layout{}
	key := keys.ArtKey("0123456789abcdef0123", ".jpg")
	puts := 0
	put := func(key, path string, size int64, ct string) error {
		puts++
		return st.PutFile(ctx, key, path, pipeline.Put{ContentType: ct})
	}
	first, err := artSizes(ctx, keys, key, art, dir, h.stored(ctx), put)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 7 || puts != 6 {
		t.Fatalf("%d sizes, %d put; want the art's own and 600, 300, 150 as JPEG and WebP, 6 put", len(first), puts)
	}
	second, err := artSizes(ctx, keys, key, art, dir, h.stored(ctx), put)
	if err != nil {
		t.Fatal(err)
	}
	if puts != 6 || !reflect.DeepEqual(first, second) {
		t.Errorf("the same art again: %d more put, sizes %v, want none and %v", puts-6, second, first)
	}
	if err := st.Delete(ctx, first[3].Key); err != nil {
		t.Fatal(err)
	}
	if _, err := artSizes(ctx, keys, key, art, dir, h.stored(ctx), put); err != nil {
		t.Fatal(err)
	}
	if puts != 12 {
		t.Errorf("a size gone: %d put, want all 6 made again", puts-6)
	}
	if _, err := st.Stat(ctx, first[3].Key); err != nil {
		t.Errorf("the size gone is not back: %v", err)
	}
}
