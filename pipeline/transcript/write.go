package transcript

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/prodcast/prodcast/pipeline"
)

// The content types of the published transcripts, as the podcast
// namespace names them in podcast:transcript.
const (
	TypeVTT  = "text/vtt"
	TypeSRT  = "application/x-subrip"
	TypeJSON = "application/json"
)

// Format is one form a transcript is published in, next to its episode's
// page.
type Format struct {
	Name string // file name: transcript.vtt
	Type string // content type, as podcast:transcript names it
}

// Published are the forms of every published transcript, WebVTT first.
var Published = []Format{{"transcript.vtt", TypeVTT}, {"transcript.srt", TypeSRT}, {"transcript.json", TypeJSON}}

// PublishedAs are the forms of a transcript in another language than the
// episode's main one: transcript.<lang>.vtt and so on. "" is Published.
func PublishedAs(lang string) []Format {
	if lang == "" {
		return Published
	}
	out := make([]Format, len(Published))
	for i, f := range Published {
		out[i] = Format{Name: "transcript." + lang + path.Ext(f.Name), Type: f.Type}
	}
	return out
}

// Render writes cues in the form f.
func (f Format) Render(cues []pipeline.Cue) ([]byte, error) {
	switch f.Type {
	case TypeVTT:
		return VTT(cues), nil
	case TypeSRT:
		return SRT(cues), nil
	case TypeJSON:
		return JSON(cues)
	}
	return nil, fmt.Errorf("no transcript format %q", f.Type)
}

var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// VTT writes cues as WebVTT, each with a voice span naming its speaker, as
// Apple Podcasts reads them.
func VTT(cues []pipeline.Cue) []byte {
	var b bytes.Buffer
	b.WriteString("WEBVTT\n")
	for _, c := range cues {
		fmt.Fprintf(&b, "\n%s --> %s\n", stamp(c.Start, '.'), stamp(c.End, '.'))
		text := escape.Replace(c.Text)
		if c.Speaker != "" {
			text = "<v " + escape.Replace(c.Speaker) + ">" + text
		}
		b.WriteString(text)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// SRT writes cues as SubRip. As the podcast namespace asks, a cue where the
// speaker changes starts with the speaker's name and a colon.
func SRT(cues []pipeline.Cue) []byte {
	var b bytes.Buffer
	last := ""
	for i, c := range cues {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%d\n%s --> %s\n", i+1, stamp(c.Start, ','), stamp(c.End, ','))
		if c.Speaker != "" && c.Speaker != last {
			b.WriteString(c.Speaker + ": ")
		}
		last = c.Speaker
		b.WriteString(c.Text)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

type segment struct {
	Speaker   string  `json:"speaker,omitempty"`
	StartTime float64 `json:"startTime"`
	EndTime   float64 `json:"endTime"`
	Body      string  `json:"body"`
}

// JSON writes cues in the podcast namespace's JSON transcript format,
// version 1.0.0.
func JSON(cues []pipeline.Cue) ([]byte, error) {
	doc := struct {
		Version  string    `json:"version"`
		Segments []segment `json:"segments"`
	}{Version: "1.0.0", Segments: make([]segment, len(cues))}
	for i, c := range cues {
		doc.Segments[i] = segment{Speaker: c.Speaker, StartTime: round(c.Start), EndTime: round(c.End), Body: c.Text}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(doc)
	return b.Bytes(), err
}

func round(sec float64) float64 { return float64(int64(sec*1000+0.5)) / 1000 }

// Speakers lists the speakers of cues in the order they first speak.
func Speakers(cues []pipeline.Cue) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cues {
		if c.Speaker != "" && !seen[c.Speaker] {
			seen[c.Speaker] = true
			out = append(out, c.Speaker)
		}
	}
	return out
}

// Turn is a paragraph of the transcript on the episode page: one speaker's
// consecutive cues, cut into pieces of at most TurnSpan seconds so that
// every paragraph has a timestamp near what it says.
type Turn struct {
	Start   float64
	Speaker string // "" when the speaker has not changed since the last turn
	Text    string
}

// TurnSpan is the longest stretch of speech a Turn covers.
const TurnSpan = 60.0

// Turns groups cues into paragraphs for reading: a two-hour transcript of
// some 2,000 cues becomes some 200 paragraphs.
func Turns(cues []pipeline.Cue) []Turn {
	var out []Turn
	var text strings.Builder
	speaker := "\x00" // of the turn being written
	flush := func() {
		if len(out) > 0 {
			out[len(out)-1].Text = text.String()
		}
		text.Reset()
	}
	for _, c := range cues {
		if len(out) == 0 || c.Speaker != speaker || c.Start-out[len(out)-1].Start >= TurnSpan {
			flush()
			t := Turn{Start: c.Start}
			if c.Speaker != speaker {
				t.Speaker = c.Speaker
			}
			speaker = c.Speaker
			out = append(out, t)
		} else {
			text.WriteByte(' ')
		}
		text.WriteString(strings.ReplaceAll(c.Text, "\n", " "))
	}
	flush()
	return out
}
