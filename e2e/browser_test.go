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

	cdplog "github.com/chromedp/cdproto/log"
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
		case *cdplog.EventEntryAdded:
			// A page, its player or the desk's scripts broke the
			// Content-Security-Policy the server sent.
			if strings.Contains(e.Entry.Text, "Content Security Policy") {
				seen = append(seen, "csp: "+e.Entry.Text)
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

// axeProblems runs axe-core (scripts/axe.sh) on the page open in ctx and
// returns its serious and critical violations, one line each.
func axeProblems(t *testing.T, ctx context.Context) []string {
	t.Helper()
	path := os.Getenv("PRODCAST_TEST_AXE")
	if path == "" {
		t.Fatal("PRODCAST_TEST_AXE is not set: run the tests with scripts/test.sh, which installs axe-core (npm) with scripts/axe.sh")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("axe-core: %v (scripts/axe.sh installs it)", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](string(src)+";true")); err != nil {
		t.Fatalf("cannot load axe-core into the page: %v", err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
		 .map(v => v.impact + " " + v.id + ": " + v.help + " (" + v.nodes.map(n => n.target.join(" ")).join(", ") + ")"))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core did not run: %v", err)
	}
	return found
}

// TestEpisodePageInChromium opens an episode page served by `prodcast up`
// in headless Chromium: no console errors, the player loads its metadata, a
// chapter link and a transcript timestamp move the player, the paragraph
// and the chapter being played are marked and move on as it plays, ?t=
// starts it there, and the episode, home and embed pages are photographed
// at phone and desktop widths.
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
	again := filepath.Join(t.TempDir(), "sam-again")
	MustSpeechWAV(t, filepath.Join(again, "talk.wav"), 5, 1)
	MustWrite(t, filepath.Join(again, "episode.md"), "---\ntitle: Sam comes back\nguests: [{name: sam, url: 'https://example.com/sam'}]\n---\nMore.\n")
	MoveIn(t, data, again)
	WaitFor(t, 60*time.Second, "the second episode in the feed", func() bool { return FeedItems(url("/feed.xml")) == 2 })
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
	access := map[string][]string{"the episode page": axeProblems(t, ctx)}
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
	// Follow along: the paragraph being said is marked, and moves on as
	// the audio plays past the next one's start; so does the chapter.
	now := `(document.querySelector(".transcript p.now a.seek") || {dataset: {}}).dataset.start`
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](now+` === "30"`, chromedp.WithPollingTimeout(10*time.Second)))
	step("mark the paragraph at 30 s after its timestamp was clicked", err)
	_, err = chromedp.Run(ctx, chromedp.Evaluate[any](`(p => { p.currentTime = 10.5; return p.play().then(() => true); })(document.getElementById("player"))`,
		chromedp.EvalAwaitPromise))
	step("play from 10.5 s", err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](now+` === "0"`, chromedp.WithPollingTimeout(10*time.Second)))
	step("mark the first paragraph while it plays", err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](now+` === "12" && document.querySelector(".chapters li.now a.seek").dataset.start === "12"`,
		chromedp.WithPollingTimeout(15*time.Second)))
	step("move the mark to the paragraph and the chapter at 12 s as the audio plays on", err)
	marked, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".transcript p.now, .chapters li.now").length`))
	step("count the marks", err)
	_, err = chromedp.Run(ctx, chromedp.Evaluate[any](`document.getElementById("player").pause()`))
	step("pause", err)
	// ?t= starts the player there.
	_, err = chromedp.Run(ctx, chromedp.Navigate(page+"?t=0m25s"))
	step("open the page at ?t=0m25s", err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`Math.abs(document.getElementById("player").currentTime - 25) < 0.5`, chromedp.WithPollingTimeout(15*time.Second)))
	step("start the player at 25 s", err)
	_, err = chromedp.Run(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	step("phone viewport", err)
	_, err = chromedp.Run(ctx, chromedp.Navigate(page))
	step("open the page on a phone", err)
	_, err = chromedp.Run(ctx, chromedp.WaitVisible(player))
	step("find the player on a phone", err)
	shot390, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	step("screenshot at 390 px", err)
	shots := map[string][]byte{"episode-390.png": shot390, "episode-1280.png": shot1280}
	// shoot photographs a page at phone and desktop widths, its images loaded.
	shoot := func(name, path string) {
		for _, width := range []int64{390, 1280} {
			_, err = chromedp.Run(ctx, chromedp.EmulateViewport(width, 844))
			step("viewport", err)
			_, err = chromedp.Run(ctx, chromedp.Navigate(url(path)))
			step("open "+path, err)
			_, err = chromedp.Run(ctx, chromedp.Poll[bool](`[...document.images].every(i => i.complete && i.naturalWidth > 0)`, chromedp.WithPollingTimeout(10*time.Second)))
			step("load the images of "+path, err)
			shots[fmt.Sprintf("%s-%d.png", name, width)], err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
			step("screenshot "+path, err)
		}
	}
	shoot("index", "/") // the art, the subscribe links
	shoot("embed", "/episodes/running-falcon-without-kubernetes/embed/")
	images, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.images.length`))
	step("count the embed player's images", err)
	// Search from the box every page has: a word said only in the
	// transcript finds the episode, linked at the time it is said.
	_, err = chromedp.Run(ctx, chromedp.EmulateViewport(1280, 844))
	step("viewport", err)
	_, err = chromedp.Run(ctx, chromedp.Navigate(url("/")))
	step("open the home page", err)
	_, err = chromedp.Run(ctx, chromedp.SendKeys(`form.search input[name="q"]`, "thanks\n"))
	step("search for a word of the transcript", err)
	// The results page, not the home page's cards the search was typed over.
	_, err = chromedp.Run(ctx, chromedp.WaitVisible(`main p[role="status"]`))
	step("show the results", err)
	found, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("main article.card .meta a")].map(a => a.getAttribute("href")).join(" ")`))
	step("read the results", err)
	access["the search results"] = axeProblems(t, ctx)
	// Sam, in both episodes (by name in any case), has one page with both.
	_, err = chromedp.Run(ctx, chromedp.Navigate(page))
	step("open the episode again", err)
	_, err = chromedp.Run(ctx, chromedp.Click(`ul.guests a[href$="/guests/sam/"]`))
	step("follow the guest's name", err)
	_, err = chromedp.Run(ctx, chromedp.WaitVisible(`ul.episodes`))
	step("open the guest's page", err)
	sams, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("ul.episodes a")].map(a => a.textContent).join(",")`))
	step("read the guest's episodes", err)
	access["the guest's page"] = axeProblems(t, ctx)
	// Every other page type.
	for name, path := range map[string]string{"guest": "/guests/sam/", "search": "/search?q=falcon", "tag": "/tags/falcon/", "about": "/about/"} {
		shoot(name, path)
	}
	_, err = chromedp.Run(ctx, chromedp.Navigate(url("/")))
	step("open the home page", err)
	access["the home page"] = axeProblems(t, ctx)
	if math.Abs(duration-40) > 0.5 {
		t.Errorf("the player's duration is %.2f s, want 40", duration)
	}
	if speakers != "Jo,Sam,Jo" {
		t.Errorf("the transcript shows speakers %q, want Jo,Sam,Jo", speakers)
	}
	if math.Abs(at-12) > 1 {
		t.Errorf("after the chapter link the player is at %.2f s, want 12", at)
	}
	if marked != 2 {
		t.Errorf("%d elements are marked as playing, want the paragraph and the chapter", marked)
	}
	if images < 1 {
		t.Errorf("the embed player shows no art")
	}
	for where, problems := range access {
		for _, p := range problems {
			t.Errorf("axe-core, %s: %s", where, p)
		}
	}
	if found != "/episodes/running-falcon-without-kubernetes/?t=30" {
		t.Errorf("searching a word of the transcript finds %q", found)
	}
	if sams != "Sam comes back,Running Falcon without Kubernetes" {
		t.Errorf("Sam's page lists %q", sams)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the page logged problems:\n%s", strings.Join(p, "\n"))
	}
	out := artifacts(t)
	for name, img := range shots {
		if len(img) < 1000 {
			t.Errorf("%s: screenshot of %d bytes", name, len(img))
		}
		if err := os.WriteFile(filepath.Join(out, name), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s; duration %.2f s, chapter seek to %.2f s", out, duration, at)
}
