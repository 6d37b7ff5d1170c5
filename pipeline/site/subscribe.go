package site

import (
	"html/template"
	"net/url"
	"strings"
)

// Link is one way to subscribe.
type Link struct {
	App string
	URL template.URL // built here: the app schemes (pktc:, castros:) are not user input
}

// Subscribe are the links that open the show in listeners' apps in one
// tap: by its Apple Podcasts id where the app looks shows up by it, else by
// the feed's URL.
func (p page) Subscribe() []Link {
	feed := p.Show.FeedURL()
	bare := strings.TrimPrefix(strings.TrimPrefix(feed, "https://"), "http://")
	id := p.Show.AppleID
	var out []Link
	if id != "" {
		out = append(out, Link{"Apple Podcasts", template.URL("https://podcasts.apple.com/podcast/id" + id)},
			Link{"Overcast", template.URL("https://overcast.fm/itunes" + id)},
			Link{"Pocket Casts", template.URL("https://pca.st/itunes/" + id)})
	} else {
		out = append(out, Link{"Overcast", template.URL("overcast://x-callback-url/add?url=" + url.QueryEscape(feed))},
			Link{"Pocket Casts", template.URL("pktc://subscribe/" + bare)})
	}
	out = append(out, Link{"AntennaPod", template.URL("https://antennapod.org/deeplink/subscribe?url=" + url.QueryEscape(feed))},
		Link{"Podcast Addict", template.URL("https://podcastaddict.com/feed/" + url.QueryEscape(feed))})
	if id != "" {
		out = append(out, Link{"Castro", template.URL("https://castro.fm/itunes/" + id)})
	} else {
		out = append(out, Link{"Castro", template.URL("castros://subscribe/" + bare)})
	}
	return append(out, Link{"Other apps", template.URL("podcast://" + bare)})
}
