package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestChaptersAndTranscript puts a bundle with chapters and a transcript
// through the pipeline and reads them back from the MP3 (ffprobe), the
// JSON, the published transcripts, the feed (gofeed and gPodder's
// podcastparser) and the page; bad chapters and a broken transcript fail
// their bundles naming the line.
func TestChaptersAndTranscript(t *testing.T) {
	env := MustShowEnv(t, "audio: {formats: [aac, opus]}\n")
	StartRoles(t, env)

	staging := t.TempDir()
	good := filepath.Join(staging, "with-chapters")
	MustSpeechWAV(t, filepath.Join(good, "talk.wav"), 30, 2)
	MustWrite(t, filepath.Join(good, "episode.md"), "---\ntitle: Chapters and OAuth\n---\nNotes.\n")
	MustWrite(t, filepath.Join(good, "chapters.txt"), "00:00:00 Welcome\n00:00:10 OAuth 2.0 in Flask https://oauth.net/2/\n00:00:21.5 Wrap-up\n")
	MustWrite(t, filepath.Join(good, "transcript.vtt"), "WEBVTT\n\n00:00.000 --> 00:04.000\n<v Jo Host>Welcome &amp; hello.\n\n"+
		"00:04.000 --> 00:10.000\nToday: OAuth in Flask.\n\n00:10.000 --> 00:21.500\n<v Ada Lovelace>Tokens expire; refresh them.\n\n"+
		"00:21.500 --> 00:33.000\n<v Jo Host>Thanks, Ada.\n") // runs 3 s past the end: a warning only
	MustWrite(t, filepath.Join(good, "transcript.de.srt"), "1\n00:00:00,000 --> 00:00:04,000\nJo Host: Willkommen & hallo.\n\n"+
		"2\n00:00:04,000 --> 00:00:10,000\nHeute: OAuth in Flask.\n")
	badTranscript := filepath.Join(staging, "bad-transcript")
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=30", filepath.Join(badTranscript, "talk.wav"))
	MustWrite(t, filepath.Join(badTranscript, "episode.md"), "---\ntitle: Bad transcript\n---\n")
	MustWrite(t, filepath.Join(badTranscript, "transcript.srt"), "1\n00:00:00,000 --> 00:00:02,000\nHi\n\n2\n00:00:02,000 -> 00:00:04,000\nBye\n")
	outOfOrder := filepath.Join(staging, "out-of-order")
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=30", filepath.Join(outOfOrder, "talk.wav"))
	MustWrite(t, filepath.Join(outOfOrder, "episode.md"), "---\ntitle: Out of order\n---\n")
	MustWrite(t, filepath.Join(outOfOrder, "chapters.txt"), "00:00 A\n00:20 B\n00:10 C\n")
	pastEnd := filepath.Join(staging, "past-end")
	MustFFmpeg(t, "-f", "lavfi", "-i", "sine=d=30", filepath.Join(pastEnd, "talk.wav"))
	MustWrite(t, filepath.Join(pastEnd, "episode.md"), "---\ntitle: Past the end\n---\n")
	MustWrite(t, filepath.Join(pastEnd, "chapters.json"), `{"version":"1.2.0","chapters":[{"startTime":0,"title":"A"},{"startTime":45,"title":"B"}]}`)
	for _, d := range []string{good, outOfOrder, pastEnd, badTranscript} {
		MoveIn(t, env.Data, d)
	}
	WaitFor(t, 90*time.Second, "1 bundle in done/ and 3 in failed/", func() bool {
		return len(Entries(filepath.Join(env.Data, "done"))) == 1 && len(Entries(filepath.Join(env.Data, "failed"))) == 3
	})
	for name, want := range map[string]string{
		"out-of-order":   `chapters.txt line 3: "C" starts at 00:00:10, not after "B"`,
		"past-end":       `chapters.json, chapter 2: "B" starts at 00:00:45, after the end of the audio`,
		"bad-transcript": `transcript.srt line 6: "00:00:02,000 -> 00:00:04,000" is not a cue timing`,
	} {
		text, _ := os.ReadFile(filepath.Join(env.Data, "failed", name, "ERROR.txt"))
		if !strings.Contains(string(text), want) {
			t.Errorf("failed/%s/ERROR.txt does not say %q:\n%s", name, want, text)
		}
	}

	f := mustFeed(t, env)
	if len(f.Items) != 1 {
		t.Fatalf("%d items", len(f.Items))
	}
	it := f.Items[0]
	// The MP3 carries ID3 chapters; the AAC and Opus encodings carry them
	// in their own forms.
	media := []string{it.Enclosures[0].URL}
	for _, alt := range it.Extensions["podcast"]["alternateEnclosure"] {
		media = append(media, alt.Children["source"][0].Attrs["uri"])
	}
	if len(media) != 3 {
		t.Fatalf("want the MP3 and 2 alternate encodings, got %q", media)
	}
	for _, url := range media {
		file := filepath.Join(t.TempDir(), filepath.Base(url))
		_, body := Get(t, url)
		os.WriteFile(file, body, 0o644)
		out, err := exec.Command("ffprobe", "-v", "error", "-show_chapters", "-of", "json", file).Output()
		if err != nil {
			t.Fatal(err)
		}
		var probed struct {
			Chapters []struct {
				Start string            `json:"start_time"`
				Tags  map[string]string `json:"tags"`
			} `json:"chapters"`
		}
		json.Unmarshal(out, &probed)
		var got []string
		for _, c := range probed.Chapters {
			got = append(got, c.Start+" "+c.Tags["title"])
		}
		want := []string{"0.000000 Welcome", "10.000000 OAuth 2.0 in Flask", "21.500000 Wrap-up"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("chapters in %s (-want +got):\n%s", filepath.Base(url), diff)
		}
	}
	// The podcast:chapters JSON.
	ext := it.Extensions["podcast"]["chapters"]
	if len(ext) != 1 || ext[0].Attrs["type"] != "application/json+chapters" {
		t.Fatalf("gofeed finds no podcast:chapters: %+v", it.Extensions["podcast"])
	}
	_, js := Get(t, ext[0].Attrs["url"])
	var doc struct {
		Version  string `json:"version"`
		Chapters []struct {
			StartTime float64 `json:"startTime"`
			Title     string  `json:"title"`
			URL       string  `json:"url"`
		} `json:"chapters"`
	}
	if err := json.Unmarshal(js, &doc); err != nil || doc.Version != "1.2.0" || len(doc.Chapters) != 3 ||
		doc.Chapters[2].StartTime != 21.5 || doc.Chapters[1].Title != "OAuth 2.0 in Flask" || doc.Chapters[1].URL != "https://oauth.net/2/" {
		t.Errorf("chapters.json: %v %+v", err, doc)
	}
	// gPodder reads Podlove Simple Chapters.
	feedPath := filepath.Join(t.TempDir(), "feed.xml")
	_, fx := Get(t, env.URL("/feed.xml"))
	os.WriteFile(feedPath, fx, 0o644)
	pout, err := exec.Command("/usr/bin/python3", "testdata/parsefeed.py", feedPath, env.URL("/feed.xml")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var parsed map[string]struct {
		Items []struct {
			Chapters [][]any `json:"chapters"`
		} `json:"items"`
	}
	json.Unmarshal(pout, &parsed)
	pc := parsed["podcastparser"].Items
	if len(pc) != 1 || len(pc[0].Chapters) != 3 || pc[0].Chapters[1][1] != "OAuth 2.0 in Flask" || pc[0].Chapters[2][0] != 21.0 { // podcastparser keeps whole seconds
		t.Errorf("podcastparser's chapters: %s", pout)
	}
	// The transcript, in the feed and in its three forms, in English and
	// in German.
	trs := it.Extensions["podcast"]["transcript"]
	if len(trs) != 6 {
		t.Fatalf("gofeed finds %d podcast:transcript, want 3 in English and 3 in German: %+v", len(trs), trs)
	}
	types := map[string]string{}
	for _, tr := range trs[3:] {
		if tr.Attrs["language"] != "de" || !strings.Contains(tr.Attrs["url"], "/transcript.de.") {
			t.Errorf("podcast:transcript %s %s has language %q; want de", tr.Attrs["type"], tr.Attrs["url"], tr.Attrs["language"])
		}
	}
	resp, body := Get(t, trs[3].Attrs["url"])
	if !strings.Contains(string(body), "00:00:00.000 --> 00:00:04.000\n<v Jo Host>Willkommen &amp; hallo.\n") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/vtt") {
		t.Errorf("the German VTT at %s:\n%s", trs[3].Attrs["url"], body)
	}
	for _, tr := range trs[:3] {
		types[tr.Attrs["type"]] = tr.Attrs["url"]
		if tr.Attrs["language"] != "en" {
			t.Errorf("podcast:transcript %s has language %q", tr.Attrs["type"], tr.Attrs["language"])
		}
		if (tr.Attrs["rel"] == "captions") != (tr.Attrs["type"] == "text/vtt") {
			t.Errorf("podcast:transcript %s has rel %q; only the VTT is captions", tr.Attrs["type"], tr.Attrs["rel"])
		}
	}
	for typ, want := range map[string]string{
		"text/vtt":             "00:00:10.000 --> 00:00:21.500\n<v Ada Lovelace>Tokens expire; refresh them.\n",
		"application/x-subrip": "3\n00:00:10,000 --> 00:00:21,500\nAda Lovelace: Tokens expire; refresh them.\n",
		"application/json":     `{"speaker":"Jo Host","startTime":4,"endTime":10,"body":"Today: OAuth in Flask."}`,
	} {
		resp, body := Get(t, types[typ])
		if !strings.Contains(string(body), want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), typ) {
			t.Errorf("%s at %q (%s) lacks %q:\n%s", typ, types[typ], resp.Header.Get("Content-Type"), want, body)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s is not open to web players on other sites (no CORS header)", typ)
		}
	}
	// The warning is kept for the producer.
	status, err := Run(t, env.Vars(), "status")
	if err != nil || !strings.Contains(status, "transcript.vtt line 12: the cue at 00:00:21.500 ends at 00:00:33.000, after the end of the audio (00:00:30.000)") {
		t.Errorf("prodcast status does not show the transcript's warning (%v):\n%s", err, status)
	}
	// The page lists the chapters and the transcript, as links that seek.
	_, page := Get(t, it.Link)
	for _, want := range []string{`data-start="10"`, `data-start="21.5"`, "00:00:21.500", "Wrap-up", `href="https://oauth.net/2/"`,
		`<b class="speaker">Ada Lovelace</b>`, "Welcome &amp; hello. Today: OAuth in Flask.", `href="/episodes/chapters-and-oauth/transcript.srt"`,
		`In <span lang="de">Deutsch</span>: <a href="/episodes/chapters-and-oauth/transcript.de.vtt" download type="text/vtt" hreflang="de">VTT</a>`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
