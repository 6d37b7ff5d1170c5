package chapters

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/prodcast/prodcast/pipeline"
)

// Files are the names a bundle's chapters may have.
var Files = []string{"chapters.txt", "chapters.json"}

// MinLength is the shortest chapter that passes without a warning.
const MinLength = 5.0

// Parse reads chapters and checks them against the audio's duration
// (seconds; 0 skips that check). Errors are pipeline.InputErrors that name
// the line; warnings do not stop the episode.
func Parse(name string, data []byte, duration float64) ([]pipeline.Chapter, []string, error) {
	var cs []pipeline.Chapter
	var lines []int
	var err error
	if strings.HasSuffix(strings.ToLower(name), ".json") {
		cs, err = parseJSON(name, data)
		for i := range cs {
			lines = append(lines, i+1)
		}
	} else {
		cs, lines, err = parseText(name, data)
	}
	if err != nil {
		return nil, nil, err
	}
	if len(cs) == 0 {
		return nil, nil, pipeline.Inputf("add one chapter a line, like: 00:00:00 Introduction", "%s has no chapters", name)
	}
	return check(name, cs, lines, duration)
}

func check(name string, cs []pipeline.Chapter, lines []int, duration float64) ([]pipeline.Chapter, []string, error) {
	what := func(i int) string {
		if strings.HasSuffix(name, ".json") {
			return fmt.Sprintf("%s, chapter %d", name, lines[i])
		}
		return fmt.Sprintf("%s line %d", name, lines[i])
	}
	if cs[0].Start != 0 {
		return nil, nil, pipeline.Inputf("start the first chapter at 00:00:00",
			"%s: the first chapter starts at %s, not at 0", what(0), Format(cs[0].Start))
	}
	var warnings []string
	for i, c := range cs {
		if i > 0 && c.Start <= cs[i-1].Start {
			return nil, nil, pipeline.Inputf("list the chapters in order of time",
				"%s: %q starts at %s, not after %q at %s", what(i), c.Title, Format(c.Start), cs[i-1].Title, Format(cs[i-1].Start))
		}
		if duration > 0 && c.Start >= duration {
			return nil, nil, pipeline.Inputf("check the timestamps against the recording",
				"%s: %q starts at %s, after the end of the audio (%s)", what(i), c.Title, Format(c.Start), Format(duration))
		}
		end := duration
		if i+1 < len(cs) {
			end = cs[i+1].Start
		}
		if end > 0 && end-c.Start < MinLength {
			warnings = append(warnings, fmt.Sprintf("%s: %q lasts only %.1f s", what(i), c.Title, end-c.Start))
		}
	}
	return cs, warnings, nil
}

// parseText reads "HH:MM:SS Title [URL]" lines or Audacity labels.
func parseText(name string, data []byte) ([]pipeline.Chapter, []int, error) {
	var cs []pipeline.Chapter
	var lines []int
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for n, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var c pipeline.Chapter
		if f := strings.Split(line, "\t"); len(f) >= 3 { // Audacity: start, end, label
			start, err := strconv.ParseFloat(strings.TrimSpace(f[0]), 64)
			if err != nil || !digits.MatchString(strings.TrimSpace(f[0])) {
				return nil, nil, pipeline.Inputf("export the labels from Audacity again, or use lines like: 00:12:30 Title",
					"%s line %d: %q is not a time in seconds", name, n+1, f[0])
			}
			c = pipeline.Chapter{Start: start, Title: strings.TrimSpace(f[2])}
		} else {
			stamp, rest, _ := strings.Cut(line, " ")
			start, err := ParseTime(stamp)
			if err != nil {
				return nil, nil, pipeline.Inputf("write each chapter as HH:MM:SS Title (or MM:SS Title)",
					"%s line %d: %q is not a timestamp", name, n+1, stamp)
			}
			rest = strings.TrimSpace(rest)
			if i := strings.LastIndexByte(rest, ' '); i >= 0 && isURL(rest[i+1:]) {
				c.URL, rest = rest[i+1:], strings.TrimSpace(rest[:i])
			} else if isURL(rest) {
				c.URL, rest = rest, ""
			}
			c.Start, c.Title = start, rest
		}
		if c.Title == "" {
			return nil, nil, pipeline.Inputf("give every chapter a title after its time", "%s line %d has no title", name, n+1)
		}
		cs = append(cs, c)
		lines = append(lines, n+1)
	}
	return cs, lines, nil
}

func parseJSON(name string, data []byte) ([]pipeline.Chapter, error) {
	var doc struct {
		Version  string `json:"version"`
		Chapters []struct {
			StartTime *float64 `json:"startTime"`
			Title     string   `json:"title"`
			URL       string   `json:"url"`
			TOC       *bool    `json:"toc"`
		} `json:"chapters"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, &pipeline.InputError{Problem: name + " is not valid JSON",
			Fix: `use the podcast:chapters format: {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Intro"}]}`, Err: err}
	}
	var cs []pipeline.Chapter
	for i, c := range doc.Chapters {
		if c.StartTime == nil {
			return nil, pipeline.Inputf(`give every chapter a "startTime" in seconds`, "%s, chapter %d has no startTime", name, i+1)
		}
		if c.TOC != nil && !*c.TOC {
			continue // not a table-of-contents entry
		}
		if strings.TrimSpace(c.Title) == "" {
			return nil, pipeline.Inputf(`give every chapter a "title"`, "%s, chapter %d has no title", name, i+1)
		}
		cs = append(cs, pipeline.Chapter{Start: *c.StartTime, Title: strings.TrimSpace(c.Title), URL: c.URL})
	}
	return cs, nil
}

// ParseTime reads HH:MM:SS, MM:SS or H:MM:SS.mmm.
func ParseTime(s string) (float64, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("want HH:MM:SS or MM:SS")
	}
	total := 0.0
	for i, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || !digits.MatchString(p) || (i > 0 && v >= 60) || (i < len(parts)-1 && strings.Contains(p, ".")) {
			return 0, fmt.Errorf("bad field %q", p)
		}
		total = total*60 + v
	}
	return total, nil
}

// digits is one field of a timestamp: digits, with a fraction in the last.
var digits = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// Format writes seconds as HH:MM:SS (with milliseconds when there are any).
func Format(sec float64) string {
	ms := int64(sec*1000 + 0.5)
	s := fmt.Sprintf("%02d:%02d:%02d", ms/3600000, ms/60000%60, ms/1000%60)
	if ms%1000 != 0 {
		s += fmt.Sprintf(".%03d", ms%1000)
	}
	return s
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// JSON renders chapters in the podcast:chapters format, version 1.2.0.
func JSON(cs []pipeline.Chapter) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(struct {
		Version  string             `json:"version"`
		Chapters []pipeline.Chapter `json:"chapters"`
	}{"1.2.0", cs})
	return buf.Bytes(), err
}

// FFMetadata renders chapters as an ffmpeg metadata file, from which ffmpeg
// writes ID3 CHAP and CTOC frames into an MP3.
func FFMetadata(cs []pipeline.Chapter, duration float64) string {
	var b strings.Builder
	b.WriteString(";FFMETADATA1\n")
	esc := strings.NewReplacer(`\`, `\\`, "=", `\=`, ";", `\;`, "#", `\#`, "\n", `\`+"\n")
	for i, c := range cs {
		end := duration
		if i+1 < len(cs) {
			end = cs[i+1].Start
		}
		fmt.Fprintf(&b, "[CHAPTER]\nTIMEBASE=1/1000\nSTART=%d\nEND=%d\ntitle=%s\n",
			int64(c.Start*1000+0.5), int64(end*1000+0.5), esc.Replace(c.Title))
	}
	return b.String()
}

// Vorbis renders chapters as Vorbis comments (CHAPTER000=00:00:00.000,
// CHAPTER000NAME=Title), the form Ogg and Opus players such as AntennaPod
// read.
func Vorbis(cs []pipeline.Chapter) []string {
	var out []string
	for i, c := range cs {
		ms := int64(c.Start*1000 + 0.5)
		out = append(out, fmt.Sprintf("CHAPTER%03d=%02d:%02d:%02d.%03d", i, ms/3600000, ms/60000%60, ms/1000%60, ms%1000),
			fmt.Sprintf("CHAPTER%03dNAME=%s", i, c.Title))
		if c.URL != "" {
			out = append(out, fmt.Sprintf("CHAPTER%03dURL=%s", i, c.URL))
		}
	}
	return out
}
