package machine

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prodcast/prodcast/internal/fetch"
	"github.com/prodcast/prodcast/pipeline"
)

// MaxSkew is how far S3 lets a request's signed time be off its own clock.
const MaxSkew = 15 * time.Minute

// clockClient asks the storage (an endpoint the operator configured) for
// its time: one request, with a timeout.
var clockClient = fetch.New(fetch.Options{Timeout: 10 * time.Second, MaxBytes: 1 << 20})

// ClockOffset is how far the clock of the server at endpoint (an S3
// endpoint URL) is ahead of this machine's, read from the Date header of
// its answer to a HEAD, to the second. Any answer will do (S3 answers 403
// to an unsigned request, with its Date).
func ClockOffset(ctx context.Context, endpoint string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, endpoint, nil)
	if err != nil {
		return 0, err
	}
	before := time.Now()
	resp, err := clockClient.Do(req, fetch.Configured)
	if err != nil {
		return 0, fmt.Errorf("cannot ask %s for its time: %w", endpoint, err)
	}
	resp.Body.Close()
	after := time.Now()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return 0, fmt.Errorf("%s sent no Date with its answer", endpoint)
	}
	local := before.Add(after.Sub(before) / 2)
	// The Date is whole seconds: half a second either way is no offset.
	off := date.Sub(local.Truncate(time.Second))
	if off > -time.Second && off < time.Second {
		off = 0
	}
	return off, nil
}

// CheckClock reports a MachineError when this machine's clock is off the
// storage's by more than S3 allows, saying by how much.
func CheckClock(off time.Duration) error {
	if off < MaxSkew && off > -MaxSkew {
		return nil
	}
	way := "behind"
	if off < 0 {
		way, off = "ahead of", -off
	}
	return &pipeline.MachineError{Kind: pipeline.FaultClock, Free: -1,
		Problem: fmt.Sprintf("this machine's clock is %s %s the storage's (S3 refuses requests more than %d minutes off)", SkewText(off), way, int(MaxSkew.Minutes())),
		Fix:     "set the clock (enable NTP: timedatectl set-ntp true); the work resumes by itself"}
}

// SkewText says an offset in minutes, or seconds under two minutes.
func SkewText(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d < 2*time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	return fmt.Sprintf("%d minutes", int(d.Round(time.Minute).Minutes()))
}
