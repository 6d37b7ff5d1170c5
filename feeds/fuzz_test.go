package feeds

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/bundle"
)

// fuzzSeeds are feeds of every kind the fuzzers start from: good ones and
// the broken shapes real feeds come in.
func fuzzSeeds(f *testing.F) {
	good := oldFeed(oldItem("One", "g1", "Mon, 02 Mar 2020 10:00:00 +0000", mp3) +
		oldItem("Two", "g2", "Thu, 01 Jan 70 00:00:00 GMT", `<enclosure url=" rel/a.m4a" type="audio/x-m4a"/>`))
	for _, s := range []string{
		good, "", "<", "<rss>", "<rss><channel><item>", "oops" + good, "<html><body>x</body></html>",
		`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="enclosure" href="x"/></entry></feed>`,
		`<?xml version="1.0" encoding="KOI8-R"?><rss><channel><title>` + "\xf0\xd2\xc9" + `</title></channel></rss>`,
		`<rss><channel><item><title>&nbsp;&undefined;</title><enclosure url="%zz" length="-1"/></item></channel></rss>`,
		`<rss><channel><item><pubDate>99 Jan 99 99:99:99 GMT</pubDate><guid></guid></item><!-- <item> --><![CDATA[<item>]]></channel></rss>`,
	} {
		f.Add([]byte(s))
	}
	if golden, err := os.ReadFile(filepath.Join("testdata", "feed.golden.xml")); err == nil {
		f.Add(golden)
	}
}

// FuzzImport: whatever the bytes, Import answers (episodes, or an error)
// and never panics, every item it read is either taken or reported, and
// the show's settings become a show.yaml.
func FuzzImport(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		feed, got, skipped, err := Import(data, "https://old.test/feed.xml")
		if err != nil {
			return
		}
		if len(got)+len(skipped) != len(feed.Items) {
			t.Errorf("%d items read, %d taken and %d skipped: some went unreported", len(feed.Items), len(got), len(skipped))
		}
		// The show's settings, as the show.yaml import writes: one that
		// prodcast reads back, or one it refuses with a message.
		data, err = ImportShow(feed).YAML("fuzz", "cover.jpg")
		if err != nil {
			t.Fatalf("the imported show cannot be written: %v", err)
		}
		if _, err := bundle.ParseShow(data, "https://new.test"); err != nil && !pipeline.IsInput(err) {
			t.Errorf("show.yaml from the feed is refused without a message: %v\n%s", err, data)
		}
	})
}

// FuzzValidate: CheckXML and Validate answer any bytes without panicking.
func FuzzValidate(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(CheckXML(data)) == 0 {
			Validate(data)
		}
	})
}
