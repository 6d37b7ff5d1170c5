package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/schollz/progressbar/v3"

	"github.com/prodcast/prodcast/workers"
)

// printRunning shows each running task; encodes get a progress bar with the
// time left, from the progress the worker stores as the task's result.
func printRunning(w io.Writer, insp *asynq.Inspector) {
	var tasks []*asynq.TaskInfo
	for _, q := range workers.Queues(insp) {
		active, err := insp.ListActiveTasks(q)
		if err == nil {
			tasks = append(tasks, active...)
		}
	}
	if len(tasks) == 0 {
		return
	}
	fmt.Fprintln(w, "\nRUNNING")
	for _, t := range tasks {
		var p workers.Progress
		encoding := t.Type == workers.TypeEpisodeEncode || t.Type == workers.TypeEpisodePiece
		if !encoding || json.Unmarshal(t.Result, &p) != nil || p.Total <= 0 {
			fmt.Fprintf(w, "  %s %s\n", t.Type, t.ID)
			continue
		}
		fmt.Fprintf(w, "  %s\n", progressLine(t.ID, p, time.Now()))
	}
}

// progressLine renders "encode:slug:... 42% |████    | 2m10s left".
func progressLine(id string, p workers.Progress, now time.Time) string {
	var buf bytes.Buffer
	bar := progressbar.NewOptions64(int64(p.Total*1000),
		progressbar.OptionSetWriter(&buf),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetDescription(id),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionUseANSICodes(false),
		progressbar.OptionThrottle(0),
	)
	_ = bar.Set64(int64(min(p.Done, p.Total) * 1000))
	line := strings.TrimSpace(strings.ReplaceAll(buf.String(), "\r", ""))
	if p.Done > 0 && !p.Start.IsZero() {
		elapsed := now.Sub(p.Start)
		left := time.Duration(float64(elapsed) * (p.Total - p.Done) / p.Done).Round(time.Second)
		line += fmt.Sprintf(" %s left", left)
	}
	return line
}
