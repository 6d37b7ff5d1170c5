package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/redis/go-redis/v9"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/machine"
)

// faultPrefix keys the machine faults the roles met, one key a role, host
// and kind, for `prodcast status`; each lives faultTTL unless met again.
const (
	faultPrefix = "prodcast:fault:"
	faultTTL    = 2 * time.Minute
)

var machineFaults = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "prodcast_machine_faults_total",
	Help: "Faults of the machine met by the work, by kind: disk-full, read-only, missing-folder, open-files, memory, clock-skew, tool.",
}, []string{"kind"})

// Fault is a fault of the machine a role met, as status shows it.
type Fault struct {
	Role    string    `json:"role"`
	Host    string    `json:"host"`
	Kind    string    `json:"kind"`
	Path    string    `json:"path,omitempty"`
	Need    int64     `json:"need,omitempty"`
	Waits   string    `json:"waits"`   // what the work waits for: "room on /tmp"
	Message string    `json:"message"` // what is wrong and what to do
	Since   time.Time `json:"since"`
}

// Faults records and clears the machine faults of one role; its zero
// value (no Redis) counts them only.
type Faults struct {
	Redis redis.UniversalClient
	Role  string
}

func (f *Faults) key(kind string) string {
	host, _ := os.Hostname()
	return faultPrefix + f.Role + ":" + host + ":" + kind
}

// active are the faults this process's roles met and have not seen
// cleared: what /healthz names.
var active = struct {
	sync.Mutex
	m map[string]activeFault // by role and kind
}{m: map[string]activeFault{}}

type activeFault struct {
	err   *pipeline.MachineError
	since time.Time
}

// ActiveFaults are the faults of the machine this process's roles met in
// the last faultTTL and have not seen cleared, oldest first.
func ActiveFaults() []*pipeline.MachineError {
	active.Lock()
	defer active.Unlock()
	var out []*pipeline.MachineError
	for k, a := range active.m {
		if time.Since(a.since) > faultTTL {
			delete(active.m, k)
			continue
		}
		out = append(out, a.err)
	}
	return out
}

// Report records e, keeping the time it was first met.
func (f *Faults) Report(ctx context.Context, e *pipeline.MachineError) {
	machineFaults.WithLabelValues(e.Kind).Inc()
	role := ""
	if f != nil {
		role = f.Role
	}
	active.Lock()
	active.m[role+":"+e.Kind] = activeFault{err: e, since: time.Now()}
	active.Unlock()
	if f == nil || f.Redis == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	host, _ := os.Hostname()
	rec := Fault{Role: f.Role, Host: host, Kind: e.Kind, Path: e.Path, Need: e.Need, Waits: e.WaitsFor(), Message: e.Describe(), Since: time.Now().UTC()}
	key := f.key(e.Kind)
	if old, err := f.Redis.Get(ctx, key).Bytes(); err == nil {
		var prev Fault
		if json.Unmarshal(old, &prev) == nil && !prev.Since.IsZero() {
			rec.Since = prev.Since
		}
	}
	b, _ := json.Marshal(rec)
	f.Redis.Set(ctx, key, b, faultTTL)
}

// Clear forgets the faults of kind this role recorded on this host.
func (f *Faults) Clear(ctx context.Context, kind string) {
	if f == nil {
		return
	}
	active.Lock()
	delete(active.m, f.Role+":"+kind)
	active.Unlock()
	if f.Redis == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	f.Redis.Del(ctx, f.key(kind))
}

// Recheck clears the recorded disk faults whose folder has room again,
// so that status stops naming them as soon as the operator freed space.
func (f *Faults) Recheck(ctx context.Context) {
	if f == nil {
		return
	}
	for _, e := range ActiveFaults() {
		if e.Kind == pipeline.FaultDiskFull && e.Path != "" && machine.CheckRoom(e.Path, "", e.Need) == nil {
			f.Clear(ctx, e.Kind)
		}
	}
	if f.Redis == nil {
		return
	}
	all, err := ListFaults(ctx, f.Redis)
	if err != nil {
		return
	}
	host, _ := os.Hostname()
	for _, x := range all {
		if x.Role != f.Role || x.Host != host || x.Kind != pipeline.FaultDiskFull || x.Path == "" {
			continue
		}
		if machine.CheckRoom(x.Path, "", x.Need) == nil {
			f.Clear(ctx, x.Kind)
		}
	}
}

// ListFaults reads every fault the roles recorded.
func ListFaults(ctx context.Context, rdb redis.UniversalClient) ([]Fault, error) {
	var out []Fault
	iter := rdb.Scan(ctx, 0, faultPrefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		b, err := rdb.Get(ctx, iter.Val()).Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", iter.Val(), err)
		}
		var f Fault
		if json.Unmarshal(b, &f) == nil {
			out = append(out, f)
		}
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("cannot list the machine faults: %w", err)
	}
	return out, nil
}

// tempWhat names the worker's temp folder in what prodcast says.
const tempWhat = "the worker's temp folder (TMPDIR)"

// tempFolder is where the worker's encodes write.
func (h *Handlers) tempFolder() string {
	if h.TempDir != "" {
		return h.TempDir
	}
	return os.TempDir()
}

// checkTemp waits (with a MachineError) when the temp folder has not got
// need bytes free.
func (h *Handlers) checkTemp(need int64) error {
	return machine.CheckRoom(h.tempFolder(), tempWhat, need)
}

// watchMachine names the faults of the machine a task meets as such (a
// full temp folder, not "waiting for S3") and records them for status.
func (h *Handlers) watchMachine(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return h.machineErr(ctx, next.ProcessTask(ctx, t))
	})
}

// machineErr classifies err for the worker: faults of its temp folder and
// of the machine as pipeline.MachineError, recorded for status.
func (h *Handlers) machineErr(ctx context.Context, err error) error {
	if err == nil || (pipeline.IsUnavailable(err) && !pipeline.IsMachine(err)) {
		return err
	}
	err = machine.Classify(err, h.tempFolder(), tempWhat)
	var me *pipeline.MachineError
	if errors.As(err, &me) {
		if me.What == "" && strings.HasPrefix(me.Path, h.tempFolder()) {
			me.Path, me.What = h.tempFolder(), tempWhat
		}
		h.Faults.Report(ctx, me)
	}
	return err
}
