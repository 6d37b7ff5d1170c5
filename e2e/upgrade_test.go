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
)

var lastBuildDate = regexp.MustCompile(`<lastBuildDate>[^<]*</lastBuildDate>`)

// intended are the changes to the pages that this release makes on
// purpose, each removed from its answers before they are compared: the
// "Be a guest" link of the desk issue, the JSON-LD of the blog issue, and
// the podcast:image sizes the first rebuild makes of the show's art.
var intended = []*regexp.Regexp{
	regexp.MustCompile(` <a href="[^"]*/pitch/">Be a guest</a>`),
	regexp.MustCompile(`(?s)<script type="application/ld\+json">.*?</script>\n`),
	regexp.MustCompile(`\n *<podcast:image [^>]*></podcast:image>`),
}

// TestUpgrade starts this release on a data folder (with its embedded S3)
// that the last release wrote (testdata/upgrade, made by
// scripts/upgrade-fixture.sh), and checks that every URL the last release
// served answers the same bytes. Only the feed's lastBuildDate, the time of
// the last rebuild, and the intended changes below may differ.
func TestUpgrade(t *testing.T) {
	data := filepath.Join(t.TempDir(), "prodcast-data")
	if out, err := exec.Command("cp", "-a", "testdata/upgrade/prodcast-data", data).CombinedOutput(); err != nil {
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
		if url == "/feed.xml" {
			body = lastBuildDate.ReplaceAll(body, nil)
		}
		for _, re := range intended {
			body = re.ReplaceAll(body, nil)
		}
		got := sha256.Sum256(body)
		if resp.StatusCode != 200 || hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: %s, %d bytes that differ from what the last release served", url, resp.Status, len(body))
		}
	}
	if t.Failed() {
		return
	}
	if !strings.Contains(up.Output(), "uploaded=0") {
		t.Logf("the new release uploaded files at its first rebuild (bytes unchanged):\n%s", up.Output())
	}
}
