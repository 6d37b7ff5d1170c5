package chapters_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/chapters"
)

func TestParse(t *testing.T) {
	want := []pipeline.Chapter{
		{Start: 0, Title: "Introduction"},
		{Start: 75, Title: "Moving Flask to Python 3", URL: "https://flask.palletsprojects.com"},
		{Start: 3725.5, Title: "OAuth 2.0 & async"},
	}
	for _, tc := range []struct{ name, file, data string }{
		{"OK/Text", "chapters.txt", "00:00:00 Introduction\n01:15 Moving Flask to Python 3 https://flask.palletsprojects.com\n\n01:02:05.5 OAuth 2.0 & async\n"},
		{"OK/Audacity", "chapters.txt", "0.000000\t0.000000\tIntroduction\r\n75.000000\t75.000000\tMoving Flask to Python 3\n3725.5\t3725.5\tOAuth 2.0 & async\n"},
		{"OK/JSON", "chapters.json", `{"version":"1.2.0","chapters":[{"startTime":0,"title":"Introduction"},
			{"startTime":75,"title":"Moving Flask to Python 3","url":"https://flask.palletsprojects.com"},
			{"startTime":100,"title":"hidden","toc":false},{"startTime":3725.5,"title":"OAuth 2.0 & async"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, _, err := chapters.Parse(tc.file, []byte(tc.data), 4000)
			if err != nil {
				t.Fatal(err)
			}
			w := want
			if tc.name == "OK/Audacity" {
				w = append([]pipeline.Chapter{}, want...)
				w[1].URL = ""
			}
			if diff := cmp.Diff(w, cs); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, tc := range []struct{ name, file, data, problem string }{
		{"ErrNotAtZero", "chapters.txt", "00:00:10 Late start\n", "line 1: the first chapter starts at 00:00:10"},
		{"ErrOutOfOrder", "chapters.txt", "00:00 A\n05:00 B\n03:00 C\n", `line 3: "C" starts at 00:03:00, not after "B"`},
		{"ErrPastEnd", "chapters.txt", "00:00 A\n2:00:00 B\n", `line 2: "B" starts at 02:00:00, after the end of the audio`},
		{"ErrBadStamp", "chapters.txt", "00:00 A\n1:75 B\n", `line 2: "1:75" is not a timestamp`},
		{"ErrEmpty", "chapters.txt", "\n# nothing\n", "has no chapters"},
		{"ErrNoTitle", "chapters.txt", "00:00:00\n", "line 1 has no title"},
		{"ErrJSON", "chapters.json", `{"chapters": [`, "not valid JSON"},
		{"ErrNaNStamp", "chapters.txt", "00:00 A\n00:00:NaN B\n", `line 2: "00:00:NaN" is not a timestamp`},  // found by FuzzParse
		{"ErrNaNAudacity", "chapters.txt", "0\t1\tA\nNaN\t2\tB\n", `line 2: "NaN" is not a time in seconds`}, // found by FuzzParse
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := chapters.Parse(tc.file, []byte(tc.data), 3600)
			if !pipeline.IsInput(err) || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("got %v, want an InputError saying %q", err, tc.problem)
			}
		})
	}
	t.Run("OK/ShortWarns", func(t *testing.T) {
		_, warn, err := chapters.Parse("chapters.txt", []byte("00:00 A\n00:03 B\n"), 600)
		if err != nil || len(warn) != 1 || !strings.Contains(warn[0], `"A" lasts only 3.0 s`) {
			t.Errorf("got %v %v", warn, err)
		}
	})
}

func TestFFMetadata(t *testing.T) {
	got := chapters.FFMetadata([]pipeline.Chapter{{Start: 0, Title: "A=B; #1"}, {Start: 1.5, Title: "C"}}, 3)
	want := ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=A\\=B\\; \\#1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=C\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestVorbis(t *testing.T) {
	got := chapters.Vorbis([]pipeline.Chapter{{Start: 0, Title: "Intro"}, {Start: 3721.5, Title: "OAuth = tokens", URL: "https://oauth.net/2/"}})
	want := []string{"CHAPTER000=00:00:00.000", "CHAPTER000NAME=Intro",
		"CHAPTER001=01:02:01.500", "CHAPTER001NAME=OAuth = tokens", "CHAPTER001URL=https://oauth.net/2/"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzParse feeds the chapter parser arbitrary files: it must never panic,
// and what it accepts starts at 0, in order, within the audio.
func FuzzParse(f *testing.F) {
	f.Add("chapters.txt", "00:00:00 Welcome\n00:10 OAuth https://oauth.net/2/\n")
	f.Add("chapters.txt", "0.000000\t12.5\tIntro\n12.5\t30\tFlask\n")
	f.Add("chapters.json", `{"version":"1.2.0","chapters":[{"startTime":0,"title":"A"},{"startTime":5,"title":"B","toc":false}]}`)
	f.Fuzz(func(t *testing.T, name, data string) {
		if name != "chapters.json" {
			name = "chapters.txt"
		}
		cs, _, err := chapters.Parse(name, []byte(data), 60)
		if err != nil {
			if !pipeline.IsInput(err) {
				t.Fatalf("not an input error: %v", err)
			}
			return
		}
		for i, c := range cs {
			if !(c.Start >= 0 && c.Start < 60) || (i == 0 && c.Start != 0) || (i > 0 && !(c.Start > cs[i-1].Start)) || c.Title == "" {
				t.Fatalf("chapter %d: %+v", i, c)
			}
		}
	})
}
