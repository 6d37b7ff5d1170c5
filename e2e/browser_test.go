package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// artifacts is where tests leave files for people to look at: screenshots.
func artifacts(t *testing.T) string {
	dir := os.Getenv("PRODCAST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "testdata-out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// MustBrowser starts headless Chromium for one test, with a minute to
// run; problems returns what its pages logged as errors or threw.
func MustBrowser(t *testing.T, browser string) (ctx context.Context, problems func() []string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel = chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(cancel)
	var mu sync.Mutex
	var seen []string
	onEvent := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				seen = append(seen, fmt.Sprintf("console.%s: %v", e.Type, e.Args))
			}
		case *runtime.EventExceptionThrown:
			seen = append(seen, fmt.Sprintf("exception: %s (line %d)", e.ExceptionDetails.Text, e.ExceptionDetails.LineNumber))
		}
	}
	if err := chromedp.Listen(ctx, onEvent); err != nil {
		t.Fatalf("cannot start chromium: %v", err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// TestEpisodePageInChromium opens an episode page served by `prodcast up`
// in headless Chromium: no console errors, the player loads its metadata, a
// chapter link and a transcript timestamp move the player, and the page is
// photographed at phone and desktop widths.
func TestEpisodePageInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is missing: install it (Debian: apt-get install chromium); the page test needs a real browser")
	}
	data := filepath.Join(t.TempDir(), "prodcast-data")
	listen := FreeAddr(t)
	url := func(p string) string { return "http://" + listen + p }
	env := []string{"PRODCAST_REDIS_URL=", "PRODCAST_S3_ENDPOINT="}
	Start(t, env, "up", "--data", data, "--listen", listen, "--settle", "1s")
	WaitFor(t, 60*time.Second, "the empty feed", func() bool { return FeedItems(url("/feed.xml")) == 0 })
	dir := filepath.Join(t.TempDir(), "browser-episode")
	MustSpeechWAV(t, filepath.Join(dir, "talk.wav"), 40, 2)
	MustWrite(t, filepath.Join(dir, "episode.md"), "---\ntitle: Running Falcon without Kubernetes\n"+
		"guests: [{name: Sam, role: SRE, url: 'https://example.com/sam'}]\ntags: [falcon, no-kubernetes]\n---\n"+
		"## Notes\n\nWe talk about **Falcon** on plain VMs.\n\n| tool | why |\n|---|---|\n| systemd | restarts |\n")
	MustWrite(t, filepath.Join(dir, "chapters.txt"), "00:00 Hello\n00:12 Why not Kubernetes\n00:25 Falcon in production\n")
	MustWrite(t, filepath.Join(dir, "transcript.vtt"), "WEBVTT\n\n00:00.000 --> 00:12.000\n<v Jo>Hello, Sam.\n\n"+
		"00:12.000 --> 00:30.000\n<v Sam>We run Falcon on plain VMs with systemd.\n\n00:30.000 --> 00:40.000\n<v Jo>Thanks.\n")
	MoveIn(t, data, dir)
	WaitFor(t, 60*time.Second, "the episode in the feed", func() bool { return FeedItems(url("/feed.xml")) == 1 })
	page := url("/episodes/running-falcon-without-kubernetes/")

	ctx, problems := MustBrowser(t, browser)
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("chromium: %s: %v", what, err)
		}
	}
	player := chromedp.CSS("#player")
	_, err = chromedp.Run(ctx, chromedp.EmulateViewport(1280, 900))
	step("viewport", err)
	_, err = chromedp.Run(ctx, chromedp.Navigate(page))
	step("open the page", err)
	_, err = chromedp.Run(ctx, chromedp.WaitVisible(player))
	step("find the player", err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("player").readyState >= 1`, chromedp.WithPollingTimeout(20*time.Second)))
	step("load the player's metadata", err)
	duration, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("player").duration`))
	step("read the duration", err)
	shot1280, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	step("screenshot at 1280 px", err)
	_, err = chromedp.Run(ctx, chromedp.Click(chromedp.CSS(`a.seek[data-start="12"]`)))
	step("click a chapter", err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`Math.abs(document.getElementById("player").currentTime - 12) < 1`, chromedp.WithPollingTimeout(10*time.Second)))
	step("seek to the chapter", err)
	at, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("player").currentTime`))
	step("read the time", err)
	_, err = chromedp.Run(ctx, chromedp.Click(chromedp.CSS(`.transcript a.seek[data-start="30"]`)))
	step("click a transcript timestamp", err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`Math.abs(document.getElementById("player").currentTime - 30) < 1`, chromedp.WithPollingTimeout(10*time.Second)))
	step("seek to the transcript's time", err)
	speakers, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll(".transcript .speaker")].map(e => e.textContent).join(",")`))
	step("read the transcript's speakers", err)
	_, err = chromedp.Run(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))
	step("phone viewport", err)
	_, err = chromedp.Run(ctx, chromedp.Navigate(page))
	step("open the page on a phone", err)
	_, err = chromedp.Run(ctx, chromedp.WaitVisible(player))
	step("find the player on a phone", err)
	shot360, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	step("screenshot at 360 px", err)
	if math.Abs(duration-40) > 0.5 {
		t.Errorf("the player's duration is %.2f s, want 40", duration)
	}
	if speakers != "Jo,Sam,Jo" {
		t.Errorf("the transcript shows speakers %q, want Jo,Sam,Jo", speakers)
	}
	if math.Abs(at-12) > 1 {
		t.Errorf("after the chapter link the player is at %.2f s, want 12", at)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the page logged problems:\n%s", strings.Join(p, "\n"))
	}
	out := artifacts(t)
	for name, img := range map[string][]byte{"episode-360.png": shot360, "episode-1280.png": shot1280} {
		if len(img) < 1000 {
			t.Errorf("%s: screenshot of %d bytes", name, len(img))
		}
		if err := os.WriteFile(filepath.Join(out, name), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s; duration %.2f s, chapter seek to %.2f s", out, duration, at)
}
