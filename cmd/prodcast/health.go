package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/redis/go-redis/v9"

	"github.com/prodcast/prodcast/pipeline/machine"
	"github.com/prodcast/prodcast/web"
	"github.com/prodcast/prodcast/workers"
)

// dataFullBelow is the free space under which the data folder is full: a
// copy into drop/ may have stopped short there.
const dataFullBelow = 1 << 20

var (
	clockOffset = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "prodcast_clock_offset_seconds",
		Help: "How far the storage's clock (its Date header) is ahead of this machine's; S3 refuses requests more than 900 s off.",
	})
	clockOnce sync.Once
	clockNow  atomic.Int64 // the last offset measured, in nanoseconds
	clockSeen atomic.Bool  // whether one was
	diskOnce  sync.Once
)

// watchMachine starts, once a process, what keeps the machine's gauges:
// the free bytes of the data and temp folders, read at each scrape, and the
// clock's offset from the storage's, measured every minute.
func (m *Main) watchMachine(ctx context.Context) {
	diskOnce.Do(func() {
		for folder, path := range map[string]string{"data": m.Config.Data, "temp": os.TempDir()} {
			promauto.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "prodcast_disk_free_bytes", Help: "Bytes free on the disk of a folder: data (the data folder) or temp (TMPDIR).",
				ConstLabels: prometheus.Labels{"folder": folder},
			}, func() float64 {
				n, err := machine.Free(path)
				if err != nil {
					return -1
				}
				return float64(n)
			})
		}
	})
	if m.Config.S3Endpoint == "" {
		return
	}
	clockOnce.Do(func() {
		go func() {
			warned := false
			for {
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				off, err := machine.ClockOffset(cctx, m.Config.S3Endpoint)
				cancel()
				if err == nil {
					clockNow.Store(int64(off))
					clockSeen.Store(true)
					clockOffset.Set(off.Seconds())
					if cerr := machine.CheckClock(off); cerr != nil && !warned {
						slog.Error("the clock is off the storage's", "err", cerr)
					}
					warned = machine.CheckClock(off) != nil
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Minute):
				}
			}
		}()
	})
}

// healthChecks are what /healthz asks of a role besides its services: the
// faults its work met, its folders' room and the clock.
func (m *Main) healthChecks(role string, rdb redis.UniversalClient) []web.Check {
	checks := []web.Check{{Name: "machine", Run: func(context.Context) error {
		var msgs []string
		for _, e := range workers.ActiveFaults() {
			msgs = append(msgs, e.Error())
		}
		if len(msgs) > 0 {
			return errors.New(strings.Join(msgs, "; "))
		}
		return nil
	}}, {Name: "clock", Run: func(context.Context) error {
		if !clockSeen.Load() {
			return nil
		}
		return machine.CheckClock(time.Duration(clockNow.Load()))
	}}}
	if role == "worker" || role == "up" {
		checks = append(checks, web.Check{Name: "temp folder", Run: func(context.Context) error {
			return machine.CheckRoom(os.TempDir(), "the worker's temp folder (TMPDIR)", 0)
		}})
	}
	if role != "worker" {
		checks = append(checks, web.Check{Name: "data folder", Run: func(context.Context) error {
			if err := machine.CheckWritable(m.Config.Data, "the data folder"); err != nil {
				return err
			}
			return machine.CheckFull(m.Config.Data, "the data folder", dataFullBelow)
		}})
	}
	if rdb != nil {
		checks = append(checks, web.Check{Name: "redis", Run: func(ctx context.Context) error {
			if err := rdb.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("Redis does not answer: %w", err)
			}
			return nil
		}})
	}
	return checks
}
