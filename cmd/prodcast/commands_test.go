package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestEveryCommandHasHelp: each command answers -h with its flags and
// exits without error; an unknown command and a wrong flag are refused.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands {
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out, Config: DefaultConfig()}
		if err := m.Run(context.Background(), []string{c.name, "-h"}); err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("prodcast %s -h: %v", c.name, err)
		}
		if !strings.Contains(out.String(), "Usage") && !strings.Contains(out.String(), "usage") {
			t.Errorf("prodcast %s -h printed no usage:\n%s", c.name, out.String())
		}
		for _, f := range c.flags {
			if !strings.Contains(out.String(), "-"+f) {
				t.Errorf("prodcast %s -h does not list --%s", c.name, f)
			}
		}
	}
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Config: DefaultConfig()}
	if err := m.Run(context.Background(), []string{"publishh"}); err == nil {
		t.Error("an unknown command was taken")
	}
	m = &Main{Stdout: &out, Stderr: &out, Config: DefaultConfig()}
	if err := m.Run(context.Background(), []string{"status", "--no-such-flag"}); err == nil {
		t.Error("a wrong flag was taken")
	}
	m = &Main{Stdout: &out, Stderr: &out, Config: DefaultConfig()}
	if err := m.Run(context.Background(), nil); err == nil || !strings.Contains(out.String(), "commands:") {
		t.Errorf("no command: %v\n%s", err, out.String())
	}
}
