package main

import (
	"strings"
	"testing"
	"time"

	"github.com/prodcast/prodcast/workers"
)

func TestProgressLine(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	line := progressLine("encode:ep:abc", workers.Progress{Done: 300, Total: 1200, Start: start}, start.Add(10*time.Second))
	for _, want := range []string{"encode:ep:abc", "25%", "30s left"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q lacks %q", line, want)
		}
	}
}
