package ffmpeg

import (
	"context"
	"os/exec"
	"syscall"
)

// command is exec.CommandContext with one more guarantee on Linux: ffmpeg
// is killed if the worker dies without a chance to cancel it (SIGKILL, a
// crash), so no orphan keeps encoding.
func command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}
