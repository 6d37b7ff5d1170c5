// Package feeds builds and checks syndication: the podcast RSS, built with
// eduncan911/podcast and extended where that library stops (a permanent
// GUID with isPermaLink="false", content:encoded, itunes:episode and the
// Podcasting 2.0 namespace), and validation by parsing the result back with
// gofeed against a table of rules.
//
//	xml, err := feeds.Build(show, manifests, time.Now())
//	if problems := feeds.Validate(xml); feeds.HasErrors(problems) { ... }
package feeds
