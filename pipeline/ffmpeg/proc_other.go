//go:build !linux

package ffmpeg

import (
	"context"
	"os/exec"
)

// command is exec.CommandContext; cancelling ctx kills ffmpeg.
func command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, name, args...)
}
