package workers

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/prodcast/prodcast/pipeline"
)

// TestMachineFaults: a task that fails on a full temp folder is named as
// a fault of the machine (waited out, the temp folder and its free space
// named), recorded for status and /healthz, and cleared once there is
// room again.
func TestMachineFaults(t *testing.T) {
	mr := miniredis.RunT(t) // the fault registry's Redis; the real one is tried in e2e
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	tmp := t.TempDir()
	h := &Handlers{TempDir: tmp, Faults: &Faults{Redis: rdb, Role: "worker"}}
	full := asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return &os.PathError{Op: "write", Path: tmp + "/prodcast-encode-1/out.mp3", Err: syscall.ENOSPC}
	})
	err := h.watchMachine(full).ProcessTask(context.Background(), asynq.NewTask("episode:encode", nil))
	var me *pipeline.MachineError
	if !errors.As(err, &me) || me.Path != tmp || me.What != tempWhat || !pipeline.IsUnavailable(err) {
		t.Fatalf("a write onto a full temp folder: %v; want a machine fault of %s, waited out", err, tmp)
	}
	if strings.Contains(err.Error(), "S3") {
		t.Errorf("the fault blames S3: %v", err)
	}
	faults, err := ListFaults(context.Background(), rdb)
	if err != nil || len(faults) != 1 || faults[0].Kind != pipeline.FaultDiskFull || faults[0].Path != tmp || faults[0].Role != "worker" {
		t.Fatalf("recorded faults: %+v, %v", faults, err)
	}
	if got := ActiveFaults(); len(got) == 0 {
		t.Error("the fault is not active for /healthz")
	}
	// The temp folder has room (it is a real folder with room): the
	// recheck clears the fault, in Redis and in the process.
	h.Faults.Recheck(context.Background())
	if faults, _ := ListFaults(context.Background(), rdb); len(faults) != 0 {
		t.Errorf("after the recheck with room: %+v", faults)
	}
	for _, e := range ActiveFaults() {
		if e.Path == tmp {
			t.Errorf("still active after the recheck: %v", e)
		}
	}
	// Other errors pass through as they are.
	plain := errors.New("ffprobe cannot read talk.wav")
	if err := h.machineErr(context.Background(), plain); err != plain {
		t.Errorf("a plain error became %v", err)
	}
}
