package ffmpeg

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTagWritesChapters tags an MP3 in one copy: its tags, its cover, and
// chapters with their titles, all of them though ffmpeg sees only the
// file's start;
// after the new tag come the old file's frames, unchanged.
func TestTagWritesChapters(t *testing.T) {
	in := makeAudio(t, "in.mp3", "-f", "lavfi", "-i", "sine=d=30", "-c:a", "libmp3lame", "-metadata", "title=old")
	meta := filepath.Join(t.TempDir(), "ch.ffmeta")
	os.WriteFile(meta, []byte(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=10000\ntitle=Welcome\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=10000\nEND=30000\ntitle=Flask\n"), 0o644)
	out := filepath.Join(t.TempDir(), "out.mp3")
	art := makeAudio(t, "cover.jpg", "-f", "lavfi", "-i", "color=c=red:s=300x300", "-frames:v", "1")
	j := Job{Tags: map[string]string{"title": "New", "artist": "Jo"}, Art: art}
	if err := Tag(context.Background(), j, in, out, &Chapters{Meta: meta}); err != nil {
		t.Fatal(err)
	}
	data, err := exec.Command("ffprobe", "-v", "error", "-show_chapters", "-show_format", "-show_streams", "-of", "json", out).Output()
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Chapters []struct {
			Tags map[string]string `json:"tags"`
		} `json:"chapters"`
		Format struct {
			Tags map[string]string `json:"tags"`
		} `json:"format"`
		Streams []struct {
			Codec       string `json:"codec_name"`
			Disposition struct {
				AttachedPic int `json:"attached_pic"`
			} `json:"disposition"`
		} `json:"streams"`
	}
	json.Unmarshal(data, &p)
	if len(p.Chapters) != 2 || p.Chapters[0].Tags["title"] != "Welcome" || p.Chapters[1].Tags["title"] != "Flask" {
		t.Errorf("chapters %+v", p.Chapters)
	}
	if p.Format.Tags["title"] != "New" || p.Format.Tags["artist"] != "Jo" {
		t.Errorf("tags %v", p.Format.Tags)
	}
	if len(p.Streams) != 2 || p.Streams[1].Codec != "mjpeg" || p.Streams[1].Disposition.AttachedPic != 1 {
		t.Errorf("streams %+v, want the audio and the cover", p.Streams)
	}
	before, _ := os.ReadFile(in)
	after, _ := os.ReadFile(out)
	if n := id3Size(before); n == 0 || !bytes.Equal(after[id3Size(after):], before[n:]) {
		t.Errorf("the frames after the tag (%d bytes) are not the input's (%d bytes after its tag of %d)",
			len(after)-id3Size(after), len(before)-n, n)
	}
}
