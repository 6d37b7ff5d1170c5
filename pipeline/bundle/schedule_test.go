package bundle_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/pipeline/bundle"
)

// TestParseNotesFarFuture: a publish_at thousands of years ahead is a
// typo, refused naming the limit; one within it schedules.
func TestParseNotesFarFuture(t *testing.T) {
	_, _, err := bundle.ParseNotes([]byte("---\ntitle: Typo\npublish_at: 7026-01-01T09:00:00Z\n---\n"))
	if err == nil || !strings.Contains(err.Error(), "the limit is 5 years") || !strings.Contains(err.Error(), "PRODCAST_MAX_SCHEDULE_AHEAD") {
		t.Errorf("publish_at in 7026: %v; want it refused naming the limit", err)
	}
	next := time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)
	if _, _, err := bundle.ParseNotes([]byte("---\ntitle: Next year\npublish_at: " + next + "\n---\n")); err != nil {
		t.Errorf("publish_at next year: %v", err)
	}
	defer func(d time.Duration) { bundle.MaxScheduleAhead = d }(bundle.MaxScheduleAhead)
	bundle.MaxScheduleAhead = 30 * 24 * time.Hour
	if _, _, err := bundle.ParseNotes([]byte("---\ntitle: Next year\npublish_at: " + next + "\n---\n")); err == nil || !strings.Contains(err.Error(), "the limit is 30 days") {
		t.Errorf("next year with a limit of 30 days: %v", err)
	}
}
