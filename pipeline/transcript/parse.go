package transcript

import (
	"bytes"
	"fmt"
	"html"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/prodcast/prodcast/pipeline"
)

// Files are the names a bundle's transcript may have.
var Files = []string{"transcript.vtt", "transcript.srt"}

// IsFile reports whether name is one of Files, in any case, or a
// transcript in another language: transcript.<lang>.vtt or .srt.
func IsFile(name string) bool {
	_, ok := FileLanguage(name)
	return ok
}

// FileLanguage reads the language of a transcript's file name: "" for
// transcript.vtt and transcript.srt, "de" for transcript.de.vtt; ok is
// false for any other name.
func FileLanguage(name string) (lang string, ok bool) {
	ext := strings.ToLower(path.Ext(name))
	if ext != ".vtt" && ext != ".srt" {
		return "", false
	}
	stem := name[:len(name)-len(ext)]
	const base = "transcript"
	if len(stem) < len(base) || !strings.EqualFold(stem[:len(base)], base) {
		return "", false
	}
	if stem == stem[:len(base)] {
		return "", true
	}
	lang, found := strings.CutPrefix(stem[len(base):], ".")
	if !found || !pipeline.IsLanguageTag(lang) {
		return "", false
	}
	return lang, true
}

// Slack is how far past the end of the audio a cue may run before it is
// worth a warning: caption tools round cue ends up.
const Slack = 1.0

// Parse reads a transcript and checks it against the audio's duration
// (seconds; 0 skips that check). Errors are pipeline.InputErrors that name
// the line; warnings, such as cues past the end of the audio, do not stop
// the episode.
func Parse(name string, data []byte, duration float64) ([]pipeline.Cue, []string, error) {
	vtt := strings.HasSuffix(strings.ToLower(name), ".vtt")
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(data))
	bs := blocks(text)
	if vtt {
		if len(bs) == 0 || !isVTTHeader(bs[0].lines[0]) {
			return nil, nil, pipeline.Inputf("start the file with a line WEBVTT; or, if it is SubRip, name it transcript.srt",
				"%s does not start with WEBVTT", name)
		}
		bs = bs[1:]
	}
	p := &parser{name: name, vtt: vtt}
	for _, b := range bs {
		if err := p.block(b); err != nil {
			return nil, nil, err
		}
	}
	if len(p.cues) == 0 {
		return nil, nil, pipeline.Inputf("export the transcript again with its timings, or leave it out of the bundle",
			"%s has no cues", name)
	}
	if !vtt {
		speakersFromPrefixes(p.cues)
	}
	var warnings []string
	if duration > 0 {
		late := 0
		for i, c := range p.cues {
			if c.End > duration+Slack {
				if late == 0 {
					warnings = append(warnings, fmt.Sprintf("%s line %d: the cue at %s ends at %s, after the end of the audio (%s)",
						name, p.lines[i], stamp(c.Start, '.'), stamp(c.End, '.'), stamp(duration, '.')))
				}
				late++
			}
		}
		if late > 1 {
			warnings = append(warnings, fmt.Sprintf("%s: %d cues in all run past the end of the audio", name, late))
		}
	}
	return p.cues, warnings, nil
}

type block struct {
	line  int // number of the block's first line, from 1
	lines []string
}

// blocks splits a caption file at its blank lines.
func blocks(text string) []block {
	var out []block
	var cur *block
	for i, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == "" {
			cur = nil
			continue
		}
		if cur == nil {
			out = append(out, block{line: i + 1})
			cur = &out[len(out)-1]
		}
		cur.lines = append(cur.lines, l)
	}
	return out
}

func isVTTHeader(l string) bool {
	return l == "WEBVTT" || strings.HasPrefix(l, "WEBVTT ") || strings.HasPrefix(l, "WEBVTT\t")
}

type parser struct {
	name    string
	vtt     bool
	cues    []pipeline.Cue
	lines   []int // the line of each cue's timing
	speaker string
}

func (p *parser) block(b block) error {
	if p.vtt {
		first := strings.TrimSpace(b.lines[0])
		for _, kw := range []string{"NOTE", "STYLE", "REGION"} {
			if first == kw || strings.HasPrefix(first, kw+" ") || strings.HasPrefix(first, kw+"\t") {
				return nil
			}
		}
	}
	timing := 0
	if !strings.Contains(b.lines[0], "-->") {
		timing = 1 // a cue identifier, or the number of an SRT cue
	}
	line := b.line + timing
	if timing >= len(b.lines) || !strings.Contains(b.lines[timing], "-->") {
		return pipeline.Inputf(p.timingFix(), "%s line %d: %q is not a cue timing", p.name, line, b.lines[min(timing, len(b.lines)-1)])
	}
	start, end, err := p.times(b.lines[timing], line)
	if err != nil {
		return err
	}
	if n := len(p.cues); n > 0 && start < p.cues[n-1].Start {
		return pipeline.Inputf("put the cues in order of time",
			"%s line %d: the cue at %s comes after the one at %s", p.name, line, stamp(start, '.'), stamp(p.cues[n-1].Start, '.'))
	}
	speaker, text := p.payload(b.lines[timing+1:])
	if text == "" {
		return nil
	}
	p.cues = append(p.cues, pipeline.Cue{Start: start, End: end, Speaker: speaker, Text: text})
	p.lines = append(p.lines, line)
	return nil
}

func (p *parser) timingFix() string {
	if p.vtt {
		return "write each cue's timing as 00:01:02.500 --> 00:01:05.000"
	}
	return "write each cue's timing as 00:01:02,500 --> 00:01:05,000"
}

func (p *parser) times(l string, line int) (float64, float64, error) {
	a, b, _ := strings.Cut(l, "-->")
	fields := strings.Fields(b) // the end time, then VTT cue settings
	a = strings.TrimSpace(a)
	if len(fields) == 0 {
		return 0, 0, pipeline.Inputf(p.timingFix(), "%s line %d: the cue has no end time", p.name, line)
	}
	start, err := ParseTime(a)
	if err != nil {
		return 0, 0, pipeline.Inputf(p.timingFix(), "%s line %d: %q is not a timestamp", p.name, line, a)
	}
	end, err := ParseTime(fields[0])
	if err != nil {
		return 0, 0, pipeline.Inputf(p.timingFix(), "%s line %d: %q is not a timestamp", p.name, line, fields[0])
	}
	if end < start {
		return 0, 0, pipeline.Inputf("check the cue's times", "%s line %d: the cue ends (%s) before it starts (%s)",
			p.name, line, fields[0], a)
	}
	return start, end, nil
}

var (
	voice = regexp.MustCompile(`<v(?:\.[^ \t>]*)?[ \t]+([^>]+)>`)
	tag   = regexp.MustCompile(`<[^>]*>`)
)

// payload returns a cue's speaker and its text without markup. A voice span
// names the speaker of its cue and of the cues after it, until the next.
func (p *parser) payload(lines []string) (string, string) {
	joined := strings.Join(lines, "\n")
	if m := voice.FindStringSubmatch(joined); m != nil {
		p.speaker = strings.TrimSpace(html.UnescapeString(m[1]))
	}
	text := html.UnescapeString(tag.ReplaceAllString(joined, ""))
	var out []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(clean(l))
		for strings.HasPrefix(l, ">>") { // a caption's mark of a new speaker
			l = strings.TrimSpace(l[2:])
		}
		if l != "" {
			out = append(out, l)
		}
	}
	return p.speaker, strings.Join(out, "\n")
}

// clean drops control characters, which word processors and caption tools
// leave behind and which XML and JSON readers choke on.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f || r == 0xfffe || r == 0xffff {
			return -1
		}
		return r
	}, s)
}

// prefix is a speaker's name before a colon: at most four words, the
// first starting with a capital letter.
var prefix = regexp.MustCompile(`^\[?(\p{Lu}[\p{L}\p{M}'’.\-]*(?:[ \t]+[\p{L}\p{M}'’.\-]+){0,3})\]?:[ \t]+`)

// speakersFromPrefixes reads SubRip's convention: a cue that starts with
// "Name:" marks a change of speaker, who speaks until the next such cue.
// A file with voice spans keeps them.
func speakersFromPrefixes(cues []pipeline.Cue) {
	for _, c := range cues {
		if c.Speaker != "" {
			return
		}
	}
	speaker := ""
	for i := range cues {
		if m := prefix.FindStringSubmatch(cues[i].Text); m != nil {
			speaker = m[1]
			cues[i].Text = cues[i].Text[len(m[0]):]
		}
		cues[i].Speaker = speaker
	}
}

// ParseTime reads a caption timestamp: HH:MM:SS.mmm or MM:SS.mmm, with a
// comma before the milliseconds as in SubRip.
func ParseTime(s string) (float64, error) {
	s = strings.Replace(s, ",", ".", 1)
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("want HH:MM:SS.mmm")
	}
	total := 0.0
	for i, part := range parts {
		last := i == len(parts)-1
		if !digits.MatchString(part) || (!last && strings.Contains(part, ".")) {
			return 0, fmt.Errorf("bad field %q", part)
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil || (i > 0 && v >= 60) {
			return 0, fmt.Errorf("bad field %q", part)
		}
		total = total*60 + v
	}
	if total >= MaxTime {
		return 0, fmt.Errorf("later than %d hours", MaxTime/3600)
	}
	return total, nil
}

// MaxTime is the latest timestamp a transcript may hold, in seconds.
const MaxTime = 100 * 3600

// digits is one field of a timestamp: digits, with a fraction in the last.
var digits = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// stamp writes seconds as HH:MM:SS.mmm, with sep before the milliseconds.
func stamp(sec float64, sep byte) string {
	ms := int64(sec*1000 + 0.5)
	return fmt.Sprintf("%02d:%02d:%02d%c%03d", ms/3600000, ms/60000%60, ms/1000%60, sep, ms%1000)
}
