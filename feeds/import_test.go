package feeds

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

func oldFeed(items string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Old</title><link>https://old.test/</link><description>d</description>
` + items + `</channel></rss>`
}

func oldItem(title, guid, date, enclosure string) string {
	return "<item><title>" + title + "</title><guid>" + guid + "</guid><pubDate>" + date + "</pubDate>" + enclosure + "</item>\n"
}

const mp3 = `<enclosure url="https://cdn.old.test/a.mp3" length="100" type="audio/mpeg"/>`

func TestImportSkipsAndSays(t *testing.T) {
	data := oldFeed(oldItem("One", "g1", "Mon, 02 Mar 2020 10:00:00 +0000", mp3) +
		oldItem("One again", "g1", "Mon, 02 Mar 2020 10:00:00 +0000", `<enclosure url="https://cdn.old.test/b.mp3" length="100" type="audio/mpeg"/>`) +
		oldItem("No audio", "g3", "Mon, 02 Mar 2020 10:00:00 +0000", "") +
		oldItem("Old date", "g4", "Thu, 01 Jan 70 00:00:00 GMT", `<enclosure url="https://cdn.old.test/c.mp3" length="100" type="audio/mpeg"/>`) +
		oldItem("Bad date", "g5", "the first of May", `<enclosure url="https://cdn.old.test/d.mp3" length="100" type="audio/mpeg"/>`) +
		oldItem("Relative", "g6", "Mon, 02 Mar 2020 10:00:00 +0000", `<enclosure url=" media/e.m4a" length="" type="audio/x-m4a"/>`) +
		oldItem("Ogg", "g7", "Mon, 02 Mar 2020 10:00:00 +0000", `<enclosure url="https://cdn.old.test/f.ogg" length="9"/>`))
	_, got, skipped, err := Import([]byte(data), "https://old.test/podcast/feed.xml")
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, it := range got {
		titles = append(titles, it.Manifest.Meta.Title)
	}
	if strings.Join(titles, ",") != "One,Old date,Relative,Ogg" {
		t.Fatalf("imported %v", titles)
	}
	if d := got[1].Manifest.PublishedAt; !d.Equal(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("01 Jan 70 read as %s, want 1970-01-01", d)
	}
	if got[2].MediaURL != "https://old.test/podcast/media/e.m4a" || got[2].Type != "audio/x-m4a" || got[2].Length != 0 {
		t.Errorf("relative enclosure: %q %q %d", got[2].MediaURL, got[2].Type, got[2].Length)
	}
	if got[3].Type != "audio/ogg" {
		t.Errorf("an .ogg without a type is %q", got[3].Type)
	}
	want := map[string]bool{"One again": true, "No audio": false, "Bad date": false}
	if len(skipped) != len(want) {
		t.Fatalf("skipped %+v", skipped)
	}
	for _, s := range skipped {
		if dup, ok := want[s.Title]; !ok || dup != s.Duplicate || s.Why == "" || s.Item == 0 {
			t.Errorf("skipped %+v", s)
		}
	}
	// From a file, a relative URL has nothing to resolve against.
	_, got, skipped, _ = Import([]byte(data), "old.xml")
	if len(got) != 3 || !strings.Contains(skipped[len(skipped)-1].Why+skipped[len(skipped)-2].Why, "is relative") {
		t.Errorf("from a file: %d imported, skipped %+v", len(got), skipped)
	}
}

// TestImportRefusesBrokenFeeds: a feed broken in a way that hides items is
// refused, saying where, never imported as fewer episodes.
func TestImportRefusesBrokenFeeds(t *testing.T) {
	ok := oldItem("One", "g1", "Mon, 02 Mar 2020 10:00:00 +0000", mp3)
	for name, tc := range map[string]struct{ feed, want string }{
		"unclosed element": {oldFeed(`<description>open` + ok + oldItem("Two", "g2", "Mon, 02 Mar 2020 10:00:00 +0000", mp3)), "line"},
		"empty":            {"", "empty"},
		"html":             {"<!doctype html><html><head><title>x</title></head><body><p>Not found</p></body></html>", "HTML"},
	} {
		t.Run(name, func(t *testing.T) {
			_, got, _, err := Import([]byte(tc.feed), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("imported %d, err %v; want an error saying %q", len(got), err, tc.want)
			}
		})
	}
}

// TestImportWithoutChannel: a feed whose <channel> start tag is missing
// (the items sit in the <rss> itself, or after a stray </channel>) is
// refused in one line, never imported as if it were whole.
func TestImportWithoutChannel(t *testing.T) {
	ok := oldItem("One", "g1", "Mon, 02 Mar 2020 10:00:00 +0000", mp3) + oldItem("Two", "g2", "Mon, 02 Mar 2020 10:00:00 +0000", mp3)
	for _, feed := range []string{
		`<?xml version="1.0"?><rss version="2.0">` + ok + `</rss>`,
		`<?xml version="1.0"?><rss version="2.0"><title>Old</title><link>https://old.test/</link>` + ok + `</channel></rss>`,
	} {
		_, got, _, err := Import([]byte(feed), "")
		if err == nil || !strings.Contains(err.Error(), "no <channel>") {
			t.Errorf("imported %d items of a feed without <channel>, err %v; want it refused saying why", len(got), err)
		}
	}
}

func TestImportOtherEncodings(t *testing.T) {
	feed := strings.Replace(oldFeed(oldItem("Привет, Python", "g1", "Mon, 02 Mar 2020 10:00:00 +0000", mp3)), "UTF-8", "KOI8-R", 1)
	enc, err := charmap.KOI8R.NewEncoder().String(feed)
	if err != nil {
		t.Fatal(err)
	}
	_, got, _, err := Import([]byte(enc), "")
	if err != nil || len(got) != 1 || got[0].Manifest.Meta.Title != "Привет, Python" {
		t.Fatalf("a KOI8-R feed: %v %+v", err, got)
	}
}

func TestCheckXML(t *testing.T) {
	good := oldFeed(oldItem("One", "g1", "Mon, 02 Mar 2020 10:00:00 +0000", mp3))
	for _, ok := range []string{good, "\xef\xbb\xbf" + good} {
		if p := CheckXML([]byte(ok)); len(p) != 0 {
			t.Fatalf("a good feed: %v", p)
		}
	}
	for name, tc := range map[string]struct{ feed, rule, want string }{
		"text before":      {"oops" + good, "xml-well-formed", "text before the XML"},
		"after a newline":  {"\n\n" + good, "xml-well-formed", "very first thing"},
		"undefined entity": {strings.Replace(good, "<title>One", "<title>One&nbsp;", 1), "xml-well-formed", "line 3"},
		"atom":             {`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>`, "rss-root", "an Atom feed"},
		"html":             {`<html><body>404</body></html>`, "rss-root", "an HTML page"},
		"sloppy html":      {"<!doctype html><html><head><meta charset=utf-8><title>x</title></head><body><p>404<br></body></html>", "rss-root", "an HTML page"},
		"empty":            {"  \n", "xml-well-formed", "empty"},
	} {
		p := CheckXML([]byte(tc.feed))
		if len(p) != 1 || p[0].Rule != tc.rule || !strings.Contains(p[0].Message, tc.want) || p[0].Severity != Error {
			t.Errorf("%s: %v, want %s saying %q", name, p, tc.rule, tc.want)
		}
	}
}

func TestImportPersons(t *testing.T) {
	feed := strings.Replace(oldFeed(strings.Replace(oldItem("One", "g1", "Mon, 02 Mar 2020 10:00:00 +0000", mp3), "</item>",
		`<podcast:person role="guest" href="https://example.com/ana">Ana</podcast:person><podcast:person>The Host</podcast:person>`+
			`<podcast:person role="Guest" href="javascript:alert(1)">Bo</podcast:person></item>`, 1)),
		`<rss version="2.0"`, `<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"`, 1)
	_, got, _, err := Import([]byte(feed), "")
	if err != nil || len(got) != 1 {
		t.Fatal(err)
	}
	g := got[0].Manifest.Meta.Guests
	if len(g) != 2 || g[0].Name != "Ana" || g[0].URL != "https://example.com/ana" || g[1].Name != "Bo" || g[1].URL != "" {
		t.Errorf("guests %+v", g)
	}
}

func TestImportAtom(t *testing.T) {
	atom := `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Old Atom show</title><id>urn:x</id><updated>2020-03-02T10:00:00Z</updated>
<entry><title>One</title><id>urn:ep:1</id><published>2020-03-02T10:00:00Z</published><updated>2020-03-02T10:00:00Z</updated>
<link rel="enclosure" href="https://cdn.old.test/one.m4a" type="audio/x-m4a" length="1234"/><summary>Notes</summary></entry>
</feed>`
	f, got, skipped, err := Import([]byte(atom), "")
	if err != nil || len(got) != 1 || len(skipped) != 0 {
		t.Fatalf("atom: %v %d %v", err, len(got), skipped)
	}
	m := got[0]
	if f.Title != "Old Atom show" || m.Manifest.GUID != "urn:ep:1" || m.MediaURL != "https://cdn.old.test/one.m4a" || m.Type != "audio/x-m4a" ||
		m.Length != 1234 || m.Manifest.PublishedAt.Year() != 2020 {
		t.Errorf("atom entry: %+v %+v", m, m.Manifest)
	}
}
