package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var lastBuildDate = regexp.MustCompile(`<lastBuildDate>[^<]*</lastBuildDate>`)

// intended are the changes this release makes on purpose to what the last
// one served, each removed from both answers before they are compared: the
// "Be a guest" link of the desk issue; of the blog issue, the JSON-LD, the
// art in its sizes (picture, and the hero block around the title), the
// subscribe links, the embed snippet and player.js, which replaced the
// pages' inline script, and their styles, the guest pages and the links to
// them; the podcast:image sizes the first rebuild makes of the show's art.
var intended = []struct {
	re   *regexp.Regexp
	with string // what it is replaced with, in both: the old form, or nothing
}{
	{regexp.MustCompile(` <a href="[^"]*/pitch/">Be a guest</a>`), ""},
	{regexp.MustCompile(`(?s)<script type="application/ld\+json">.*?</script>\n`), ""},
	{regexp.MustCompile(`\n *<podcast:image [^>]*></podcast:image>`), ""},
	{regexp.MustCompile(`<picture>.*?</picture>\n?`), ""},
	{regexp.MustCompile(`<div class="hero">(.*?)</div>`), "$1"},
	{regexp.MustCompile(`(?s)<section class="subscribe".*?</section>\n?`), ""},
	{regexp.MustCompile(`(?s)<details class="share">.*?</details>\n`), ""},
	{regexp.MustCompile(`<script src="[^"]*/player\.js" defer></script>\n`), ""},
	{regexp.MustCompile(`(?s)<script>\n[^<]*?document\.addEventListener\("click".*?</script>`), ""},
	{regexp.MustCompile(`(?s)picture img \{.*$`), ""},
	// The brand alone is bold, not the first link of the menu.
	{regexp.MustCompile(`header\.site > a:first-child`), "header.site a:first-child"},
	// A guest's name links their page now, and their own site moved beside it.
	{regexp.MustCompile(`<li><a href="[^"]*/guests/[^"]*/">([^<]*)</a>((?:, [^<·]*)?) · <a href="([^"]*)" rel="noopener">website</a></li>`),
		`<li><a href="$3" rel="noopener">$1</a>$2</li>`},
	{regexp.MustCompile(`<li><a href="[^"]*/guests/[^"]*/">([^<]*)</a>`), "<li>$1"},
	{regexp.MustCompile(`\n  <url>\n    <loc>[^<]*/guests/[^<]*</loc>\n  </url>`), ""},
	{regexp.MustCompile(`\n<form class="search" [^>]*>.*?</form>`), ""},
}

// withoutIntended removes the intended changes from an answer.
func withoutIntended(body []byte) []byte {
	for _, c := range intended {
		body = c.re.ReplaceAll(body, []byte(c.with))
	}
	return body
}

// TestUpgrade starts this release on a data folder (with its embedded S3)
// that the last release wrote (testdata/upgrade, made by
// scripts/upgrade-fixture.sh), and checks that every URL the last release
// served answers the same bytes. Only the feed's lastBuildDate, the time of
// the last rebuild, and the intended changes above may differ: they are
// taken out of both the old answer (the object the last release left in
// the bucket, checked against the fixture's hash) and the new one.
func TestUpgrade(t *testing.T) {
	fixture := "testdata/upgrade/prodcast-data"
	data := filepath.Join(t.TempDir(), "prodcast-data")
	if out, err := exec.Command("cp", "-a", fixture, data).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	var want map[string]string
	raw, err := os.ReadFile("testdata/upgrade/urls.json")
	must(t, err)
	must(t, json.Unmarshal(raw, &want))
	if len(want) < 10 {
		t.Fatalf("the fixture lists %d URLs; it is not the fixture", len(want))
	}
	listen := FreeAddr(t)
	env := []string{"PRODCAST_REDIS_URL=", "PRODCAST_S3_ENDPOINT=", "TMPDIR=" + t.TempDir()}
	up := Start(t, env, "up", "--data", data, "--listen", listen, "--base-url", "http://podcast.test", "--settle", "1s")
	WaitFor(t, 60*time.Second, "the first rebuild of the new release", func() bool {
		return strings.Count(up.Output(), "feed and pages rebuilt") >= 1 && strings.Contains(up.Output(), "show.yaml uploaded")
	})
	time.Sleep(3 * time.Second) // a rebuild the show upload asked for
	for url, sum := range want {
		resp, body := Get(t, "http://"+listen+url)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %s", url, resp.Status)
			continue
		}
		key := strings.TrimPrefix(url, "/")
		if key == "" || strings.HasSuffix(key, "/") {
			key += "index.html"
		}
		old, err := os.ReadFile(filepath.Join(fixture, "s3/prodcast/public", key))
		if url == "/feed.xml" {
			body, old = lastBuildDate.ReplaceAll(body, nil), lastBuildDate.ReplaceAll(old, nil)
		}
		if got := sha256.Sum256(old); err != nil || hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: the fixture's object is not what the last release served (%v); make the fixture again", url, err)
			continue
		}
		if diff := cmp.Diff(string(withoutIntended(old)), string(withoutIntended(body))); diff != "" {
			t.Errorf("%s differs from what the last release served (-old +new):\n%s", url, diff)
		}
	}
	if t.Failed() {
		return
	}
	if !strings.Contains(up.Output(), "uploaded=0") {
		t.Logf("the new release uploaded files at its first rebuild (bytes unchanged):\n%s", up.Output())
	}
}
