package transcript

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/prodcast/prodcast/pipeline"
)

const vttFile = "\ufeffWEBVTT - an interview\r\n" +
	"Kind: captions\r\n\r\n" +
	"NOTE made by hand\r\nover two lines\r\n\r\n" +
	"STYLE\r\n::cue { color: red }\r\n\r\n" +
	"intro\r\n00:00.000 --> 00:04.500 align:start\r\n<v.host Ana García>Welcome &amp; hello. <i>Today</i>: OAuth&nbsp;2.0\r\n\r\n" +
	"00:00:04.500 --> 00:00:09.000\r\nIt carries over to this cue,\r\nover two lines.\r\n\r\n" +
	"00:00:09.000 --> 00:00:12.250\r\n<v Sam>Thanks for <b>having</b> me.</v>\r\n"

const srtFile = "1\n00:00:00,000 --> 00:00:02,760\nSarah: In today's episode,\nyou'll learn\n\n" +
	"2\n00:00:02,760 --> 00:00:06,090\nwhether to migrate.\n\n" +
	"3\n00:00:06,090 --> 00:00:11,610\n[Jean-Luc Picard]: Make it so: with asyncio.\n"

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name, file, data string
		want             []pipeline.Cue
	}{
		{"VTT", "transcript.vtt", vttFile, []pipeline.Cue{
			{Start: 0, End: 4.5, Speaker: "Ana García", Text: "Welcome & hello. Today: OAuth\u00a02.0"},
			{Start: 4.5, End: 9, Speaker: "Ana García", Text: "It carries over to this cue,\nover two lines."},
			{Start: 9, End: 12.25, Speaker: "Sam", Text: "Thanks for having me."},
		}},
		{"SRT", "transcript.srt", srtFile, []pipeline.Cue{
			{Start: 0, End: 2.76, Speaker: "Sarah", Text: "In today's episode,\nyou'll learn"},
			{Start: 2.76, End: 6.09, Speaker: "Sarah", Text: "whether to migrate."},
			{Start: 6.09, End: 11.61, Speaker: "Jean-Luc Picard", Text: "Make it so: with asyncio."},
		}},
		{"SRTWithoutSpeakers", "transcript.srt", "1\n00:00:01,000 --> 00:00:02,000\nplain words: no name\n", []pipeline.Cue{
			{Start: 1, End: 2, Text: "plain words: no name"},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := Parse(tt.file, []byte(tt.data), 60)
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings: %q", warnings)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("cues (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		name, file, data, want string
	}{
		{"ErrNoHeader", "transcript.vtt", "00:00.000 --> 00:01.000\nHi\n", "transcript.vtt does not start with WEBVTT"},
		{"ErrEmpty", "transcript.srt", "\n\n", "transcript.srt has no cues"},
		{"ErrOnlyHeader", "transcript.vtt", "WEBVTT\n", "transcript.vtt has no cues"},
		{"ErrBadStamp", "transcript.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\nA\n\n00:01.000 --> 00:0x.000\nB\n",
			`transcript.vtt line 6: "00:0x.000" is not a timestamp`},
		{"ErrMinutes", "transcript.srt", "1\n00:61:00,000 --> 00:62:00,000\nA\n", `transcript.srt line 2: "00:61:00,000" is not a timestamp`},
		{"ErrNoTiming", "transcript.srt", "1\nhello there\n", `transcript.srt line 2: "hello there" is not a cue timing`},
		{"ErrBackwards", "transcript.vtt", "WEBVTT\n\n00:05.000 --> 00:04.000\nA\n", "transcript.vtt line 3: the cue ends (00:04.000) before it starts (00:05.000)"},
		{"ErrNaN", "transcript.vtt", "WEBVTT\n\n00:00.000 --> 00:NaN\nA\n", `transcript.vtt line 3: "00:NaN" is not a timestamp`},
		{"ErrHuge", "transcript.srt", "1\n00:00:00,000 --> 333333:20:00,000\nA\n", `transcript.srt line 2: "333333:20:00,000" is not a timestamp`},
		{"ErrOrder", "transcript.vtt", "WEBVTT\n\n00:05.000 --> 00:06.000\nA\n\n00:01.000 --> 00:02.000\nB\n",
			"transcript.vtt line 6: the cue at 00:00:01.000 comes after the one at 00:00:05.000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse(tt.file, []byte(tt.data), 60)
			if err == nil || !pipeline.IsInput(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want an input error with %q", err, tt.want)
			}
		})
	}
}

func TestParseWarnsPastTheEnd(t *testing.T) {
	data := "WEBVTT\n\n00:00.000 --> 00:05.000\nA\n\n00:08.000 --> 00:12.000\nB\n\n00:12.000 --> 00:15.000\nC\n"
	cues, warnings, err := Parse("transcript.vtt", []byte(data), 10)
	if err != nil || len(cues) != 3 {
		t.Fatalf("%d cues, %v", len(cues), err)
	}
	want := []string{
		"transcript.vtt line 6: the cue at 00:00:08.000 ends at 00:00:12.000, after the end of the audio (00:00:10.000)",
		"transcript.vtt: 2 cues in all run past the end of the audio",
	}
	if diff := cmp.Diff(want, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestRoundTrip writes cues in each format and reads them back.
func TestRoundTrip(t *testing.T) {
	cues, _, err := Parse("transcript.vtt", []byte(vttFile), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		file string
		data []byte
	}{{"transcript.vtt", VTT(cues)}, {"transcript.srt", SRT(cues)}} {
		back, _, err := Parse(tt.file, tt.data, 0)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tt.file, err, tt.data)
		}
		if diff := cmp.Diff(cues, back); diff != "" {
			t.Errorf("%s round trip (-want +got):\n%s\n%s", tt.file, diff, tt.data)
		}
	}
	data, err := JSON(cues)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version  string
		Segments []segment
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "1.0.0" || len(doc.Segments) != 3 || doc.Segments[2] != (segment{"Sam", 9, 12.25, "Thanks for having me."}) {
		t.Errorf("JSON: %s", data)
	}
	if got := string(VTT(cues[:1])); got != "WEBVTT\n\n00:00:00.000 --> 00:00:04.500\n<v Ana García>Welcome &amp; hello. Today: OAuth\u00a02.0\n" {
		t.Errorf("VTT: %q", got)
	}
}

func TestTurns(t *testing.T) {
	var cues []pipeline.Cue
	for i := range 30 { // 150 s of Ana, then Sam
		cues = append(cues, pipeline.Cue{Start: float64(i * 5), End: float64(i*5 + 5), Speaker: "Ana", Text: "a"})
	}
	cues = append(cues, pipeline.Cue{Start: 150, End: 155, Speaker: "Sam", Text: "b\nc"})
	got := Turns(cues)
	want := []Turn{
		{Start: 0, Speaker: "Ana", Text: strings.TrimSpace(strings.Repeat("a ", 12))},
		{Start: 60, Text: strings.TrimSpace(strings.Repeat("a ", 12))},
		{Start: 120, Text: strings.TrimSpace(strings.Repeat("a ", 6))},
		{Start: 150, Speaker: "Sam", Text: "b c"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("turns (-want +got):\n%s", diff)
	}
	if got := Speakers(cues); !cmp.Equal(got, []string{"Ana", "Sam"}) {
		t.Errorf("speakers: %q", got)
	}
}

// FuzzParse feeds the parser arbitrary files: it must never panic, and
// whatever it accepts must come out in order and survive a WebVTT round
// trip. `go test -fuzz FuzzParse ./pipeline/transcript` runs it for real.
func FuzzParse(f *testing.F) {
	f.Add("transcript.vtt", vttFile)
	f.Add("transcript.srt", srtFile)
	f.Add("transcript.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\n<v>\n")
	f.Add("transcript.srt", "1\n00:00:00,000 --> \n")
	f.Fuzz(func(t *testing.T, name, data string) {
		if !IsFile(name) {
			name = "transcript.vtt"
		}
		cues, _, err := Parse(name, []byte(data), 60)
		if err != nil {
			if !pipeline.IsInput(err) {
				t.Fatalf("not an input error: %v", err)
			}
			return
		}
		for i, c := range cues {
			if !(c.Start >= 0 && c.End >= c.Start && c.End < 1e9) || (i > 0 && !(c.Start >= cues[i-1].Start)) || c.Text == "" {
				t.Fatalf("cue %d: %+v", i, c)
			}
		}
		if _, _, err := Parse("transcript.vtt", VTT(cues), 0); err != nil {
			t.Fatalf("our own VTT does not parse: %v\n%s", err, VTT(cues))
		}
	})
}

func TestFileLanguage(t *testing.T) {
	for name, want := range map[string]string{
		"transcript.vtt": "", "Transcript.SRT": "", "transcript.de.vtt": "de", "transcript.pt-BR.srt": "pt-BR",
		"transcript.zh-Hant.vtt": "zh-Hant",
	} {
		if got, ok := FileLanguage(name); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"transcript.txt", "transcript.de.txt", "transcripts.vtt", "transcript.d.vtt", "transcript..vtt",
		"transcript.de_DE.vtt", "notes.vtt", "transcript.de.en.x.vtt.bak", "trans.vtt"} {
		if lang, ok := FileLanguage(name); ok {
			t.Errorf("%s: read as a transcript in %q", name, lang)
		}
	}
	if got := PublishedAs("de")[1].Name; got != "transcript.de.srt" {
		t.Errorf("PublishedAs(de) names %q", got)
	}
}
