package markdown_test

import (
	"strings"
	"testing"

	"github.com/prodcast/prodcast/pipeline/markdown"
)

func TestHTMLXSSIsInert(t *testing.T) {
	payloads := []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`[click](javascript:alert(1))`,
		`<a href="javascript:alert(1)">x</a>`,
		`<svg onload=alert(1)>`,
		`<iframe src="https://evil.example"></iframe>`,
		`<div style="background:url(javascript:alert(1))">x</div>`,
		`[x](JaVaScRiPt:alert(1))`,
		`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
		`<body onload=alert(1)>`,
	}
	for _, p := range payloads {
		out := strings.ToLower(markdown.HTML("Notes\n\n" + p + "\n"))
		for _, bad := range []string{"<script", "onerror", "onload", "javascript:", "<iframe", "<svg", "style=", "data:text"} {
			if strings.Contains(out, bad) {
				t.Errorf("payload %q left %q in %q", p, bad, out)
			}
		}
	}
}

func TestHTMLGFM(t *testing.T) {
	out := markdown.HTML("| a | b |\n|---|---|\n| 1 | 2 |\n\nSee https://flask.palletsprojects.com and [docs](https://falcon.readthedocs.io).\n\n```python\nimport asyncio\n```\n\nA note[^1].\n\n[^1]: The footnote.\n")
	for _, want := range []string{
		"<table>", `<a href="https://flask.palletsprojects.com" rel="noopener">`,
		`<a href="https://falcon.readthedocs.io" rel="noopener">docs</a>`,
		`<code class="language-python">`, "footnote",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPlain(t *testing.T) {
	if got := markdown.Plain("We talk **Flask** and _Falcon_.\n\nSecond para.", 0); got != "We talk Flask and Falcon. Second para." {
		t.Errorf("got %q", got)
	}
	if got := markdown.Plain("one two three four five six", 12); got != "one two…" {
		t.Errorf("got %q", got)
	}
}

// TestNotesHTMLOnce: HTML notes that went through prodcast once (its own
// feed, imported) come out the same, links marked rel="noopener" once.
func TestNotesHTMLOnce(t *testing.T) {
	once := markdown.Notes("We talk about [Flask](https://flask.palletsprojects.com/).", "")
	if twice := markdown.Notes("", once); twice != once {
		t.Errorf("notes changed when rendered again:\n%s\n%s", once, twice)
	}
	if got := markdown.Notes("", `<a href="https://x.example" rel="nofollow">x</a>`); !strings.Contains(got, `rel="nofollow noopener"`) {
		t.Errorf("a link's own rel is lost: %s", got)
	}
}
