package pipeline_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline"
)

func TestLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	guids := 0
	newGUID := func() string { guids++; return "guid-1" }
	m := &pipeline.Manifest{Slug: "ep", State: pipeline.StateEncoded, MP3: &pipeline.Media{Key: "public/media/ep/a.mp3"},
		Original: pipeline.Original{Key: "private/originals/ep/x.wav", SHA256: "x"}}
	m.Publish(now, newGUID)
	m.Publish(now.Add(time.Hour), newGUID)
	if m.GUID != "guid-1" || guids != 1 || !m.PublishedAt.Equal(now) || m.State != pipeline.StatePublished {
		t.Fatalf("after two publishes: %+v (%d GUIDs made)", m, guids)
	}
	if err := m.Unpublish(); err != nil || m.State != pipeline.StateUnpublished || !m.Withdrawn() || m.Live(now) {
		t.Fatalf("Unpublish: %v %s", err, m.State)
	}
	if err := m.Republish(); err != nil || m.State != pipeline.StatePublished || m.MP3 == nil {
		t.Fatalf("Republish: %v %s", err, m.State)
	}
	m.Delete()
	if m.State != pipeline.StateDeleted || m.GUID != "guid-1" || m.MP3 != nil || m.Original.Key != "" || m.NeedsEncode() {
		t.Fatalf("Delete left %+v", m)
	}
	if err := m.Republish(); err == nil {
		t.Error("a deleted episode was republished")
	}
	if err := (&pipeline.Manifest{State: pipeline.StateIngested}).Unpublish(); err == nil {
		t.Error("an episode not yet published was unpublished")
	}
}

func TestShowURLs(t *testing.T) {
	root := &pipeline.Show{BaseURL: "http://pod.test"}
	alpha := &pipeline.Show{Name: "alpha", BaseURL: pipeline.ShowBaseURL("http://pod.test/", "alpha")}
	own := &pipeline.Show{Name: "beta", BaseURL: "https://beta.example.com"}
	for _, tc := range []struct{ got, want string }{
		{alpha.BaseURL, "http://pod.test/alpha"},
		{root.Path("/style.css"), "/style.css"},
		{alpha.Path("/style.css"), "/alpha/style.css"},
		{own.Path("/style.css"), "/style.css"},
		{alpha.EpisodeURL("ep"), "http://pod.test/alpha/episodes/ep/"},
		{alpha.PublicURL("public/alpha/media/ep/a.mp3"), "http://pod.test/alpha/media/ep/a.mp3"},
		{root.PublicURL("public/media/ep/a.mp3"), "http://pod.test/media/ep/a.mp3"},
		{own.PublicURL("public/beta/media/x.mp3"), "https://beta.example.com/media/x.mp3"},
		{root.PublicURL("https://cdn.example.com/x.mp3"), "https://cdn.example.com/x.mp3"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	err := pipeline.Unavailable("S3", syscall.ECONNREFUSED)
	if !pipeline.IsUnavailable(err) || !errors.Is(err, syscall.ECONNREFUSED) || err.Error() != "waiting for S3: connection refused" {
		t.Errorf("Unavailable: %v", err)
	}
	if pipeline.Unavailable("S3", nil) != nil || pipeline.IsUnavailable(errors.New("x")) {
		t.Error("Unavailable(nil) or a plain error")
	}
	in := pipeline.Inputf("do this", "that is wrong: %d", 3)
	if !pipeline.IsInput(in) || in.Error() != "that is wrong: 3 (fix: do this)" {
		t.Errorf("Inputf: %v", in)
	}
}
