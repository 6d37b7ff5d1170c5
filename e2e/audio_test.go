package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline/catalog"
	"github.com/prodcast/prodcast/pipeline/ffmpeg"
)

// TestAudio puts loud and quiet, mono and stereo, 44.1 and 48 kHz speech
// through the workers, and checks every MP3 as a listener's app would get
// it: loudness, true peak, tags, art, and what the manifest says of it.
func TestAudio(t *testing.T) {
	env := MustEnv(t)
	MustWrite(t, filepath.Join(env.Data, "show.yaml"), testShowYAML+"audio: {formats: [aac]}\n")
	os.MkdirAll(filepath.Join(env.Data, "drop"), 0o755)
	Start(t, env.Vars(), "worker")
	Start(t, env.Vars(), "watch")
	Start(t, env.Vars(), "serve")

	type clip struct {
		name      string
		channels  int
		rate      int
		amplitude string // of the pink noise before shaping
		target    float64
		cover     string // lavfi color spec of cover.png, "" for none
	}
	clips := []clip{
		{"quiet-stereo-44k", 2, 44100, "0.02", -16, "color=c=green:s=1000x1000"},
		{"loud-stereo-48k", 2, 48000, "1.0", -16, ""},
		{"quiet-mono-44k", 1, 44100, "0.03", -19, "color=c=blue@0.5:s=3200x3200"},
		{"loud-mono-48k", 1, 48000, "0.9", -19, ""},
	}
	staging := t.TempDir()
	for _, c := range clips {
		dir := filepath.Join(staging, c.name)
		// Speech-like: pink noise at syllable rate, with pauses.
		MustFFmpeg(t, "-f", "lavfi", "-i", "anoisesrc=color=pink:seed=3:d=12:amplitude="+c.amplitude,
			"-af", "tremolo=f=4:d=0.9,volume='if(lt(mod(t,5),0.8),0.01,1)':eval=frame",
			"-ac", strconv.Itoa(c.channels), "-ar", strconv.Itoa(c.rate), filepath.Join(dir, "talk.flac"))
		if c.cover != "" {
			MustFFmpeg(t, "-f", "lavfi", "-i", c.cover, "-frames:v", "1", "-pix_fmt", "rgba", filepath.Join(dir, "cover.png"))
		}
		MustWrite(t, filepath.Join(dir, "episode.md"), fmt.Sprintf("---\ntitle: Clip %s\nepisode: 3\nsummary: A clip.\n---\nNotes.\n", c.name))
	}
	bad := map[string]string{
		"video-only":  "has no audio stream",
		"corrupt":     "ffprobe cannot read",
		"half-second": "only 0.50 s long",
		"wide-cover":  "not square",
	}
	MustFFmpeg(t, "-f", "lavfi", "-i", "testsrc=d=3:s=320x240", "-c:v", "mpeg4", "-f", "mp4", filepath.Join(staging, "video-only", "talk.m4a"))
	MustWrite(t, filepath.Join(staging, "corrupt", "talk.mp3"), "ID3\x03\x00\x00\x00\x00\x00\x00"+strings.Repeat("\xff\x00garbage", 3000))
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=0.5", filepath.Join(staging, "half-second", "talk.wav"))
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=3", filepath.Join(staging, "wide-cover", "talk.wav"))
	MustFFmpeg(t, "-f", "lavfi", "-i", "color=c=red:s=1600x900", "-frames:v", "1", filepath.Join(staging, "wide-cover", "cover.jpg"))
	for name := range bad {
		MustWrite(t, filepath.Join(staging, name, "episode.md"), "---\ntitle: Bad "+name+"\n---\n")
	}
	for _, c := range clips {
		MoveIn(t, env.Data, filepath.Join(staging, c.name))
	}
	for name := range bad {
		MoveIn(t, env.Data, filepath.Join(staging, name))
	}
	WaitFor(t, 180*time.Second, "4 bundles in done/ and 4 in failed/", func() bool {
		return len(Entries(filepath.Join(env.Data, "done"))) == len(clips) && len(Entries(filepath.Join(env.Data, "failed"))) == len(bad)
	})

	for name, want := range bad {
		text, _ := os.ReadFile(filepath.Join(env.Data, "failed", name, "ERROR.txt"))
		if !strings.Contains(string(text), want) || !strings.Contains(string(text), "How to fix it") {
			t.Errorf("failed/%s/ERROR.txt does not say %q and what to do:\n%s", name, want, text)
		}
	}

	st := env.Store(t)
	cat := catalog.New(st)
	ctx := context.Background()
	for _, c := range clips {
		t.Run(c.name, func(t *testing.T) {
			m, err := cat.Manifest(ctx, "clip-"+c.name)
			if err != nil {
				t.Fatal(err)
			}
			mp3 := filepath.Join(t.TempDir(), "ep.mp3")
			if _, _, err := st.GetFileSHA256(ctx, m.MP3.Key, mp3); err != nil {
				t.Fatal(err)
			}
			l, err := ffmpeg.Measure(ctx, ffmpeg.Measurement{Input: mp3, TruePeak: true})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(l.Integrated-c.target) > 1 || l.TruePeak > -1 {
				t.Errorf("MP3 measures %.1f LUFS and %.1f dBTP; want %.0f ±1 LUFS and at most -1 dBTP", l.Integrated, l.TruePeak, c.target)
			}
			if m.Loudness != nil {
				t.Logf("before %.1f LUFS, gain %.1f dB, limiter %v; MP3 %.1f LUFS, %.1f dBTP",
					m.Loudness.Before.Integrated, m.Loudness.GainDB, m.Loudness.Limited, l.Integrated, l.TruePeak)
			}
			if m.Loudness == nil || math.Abs(m.Loudness.After.Integrated-l.Integrated) > 0.2 || m.Loudness.Before.Integrated == 0 {
				t.Errorf("manifest loudness %+v does not match the measure %+v", m.Loudness, l)
			}
			info, err := ffmpeg.Probe(ctx, mp3, "ep.mp3")
			if err != nil {
				t.Fatal(err)
			}
			if info.Tags["title"] != "Clip "+c.name || info.Tags["artist"] != "Jo Host" || info.Tags["album"] != "Python in Production" ||
				info.Tags["track"] != "3" || info.SampleRate != 44100 || info.Channels != c.channels {
				t.Errorf("MP3 tags/format: %+v", info)
			}
			if math.Abs(info.Duration-m.MP3.Duration) > 0.001 || math.Abs(info.Duration-12) > 0.1 {
				t.Errorf("duration: ffprobe %.3f, manifest %.3f, want 12", info.Duration, m.MP3.Duration)
			}
			obj, err := st.Stat(ctx, m.MP3.Key)
			if err != nil || obj.Size != m.MP3.Bytes || obj.ContentType != "audio/mpeg" {
				t.Errorf("S3 says %+v (%v); manifest says %d bytes", obj, err, m.MP3.Bytes)
			}
			pic, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
				"stream=width,height:stream_disposition=attached_pic", "-of", "csv=p=0", mp3).Output()
			wantPic := "1400,1400,1\n" // the show has no art: the bundle's cover
			switch {
			case c.cover == "":
				wantPic = ""
			case strings.Contains(c.cover, "3200"):
				wantPic = "3000,3000,1\n"
			}
			if err != nil || string(pic) != wantPic {
				t.Errorf("embedded art %q, want %q (%v)", pic, wantPic, err)
			}
			if (c.cover != "") != (m.Art != "") {
				t.Errorf("manifest art %q for cover %q", m.Art, c.cover)
			}
			if len(m.Alternates) != 1 || m.Alternates[0].ContentType != "audio/mp4" {
				t.Errorf("alternates: %+v, want one AAC", m.Alternates)
			} else if o, err := st.Stat(ctx, m.Alternates[0].Key); err != nil || o.Size != m.Alternates[0].Bytes {
				t.Errorf("AAC object: %+v %v", o, err)
			}
		})
	}
}
