package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prodcast/prodcast/desk"
)

func TestUserCommand(t *testing.T) {
	data := t.TempDir()
	run := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &out, Config: DefaultConfig()}
		t.Setenv("PRODCAST_DATA", data)
		err := m.Run(context.Background(), append([]string{"user"}, args...))
		return out.String(), err
	}
	t.Run("OK", func(t *testing.T) {
		if out, err := run("correct horse battery\n", "add", "ana"); err != nil || !strings.Contains(out, "user ana can log in") {
			t.Fatalf("add: %v %s", err, out)
		}
		users := desk.Users{Path: filepath.Join(data, desk.UsersFile)}
		if ok, err := users.Verify("ana", "correct horse battery"); !ok || err != nil {
			t.Errorf("the password read from stdin does not verify: %v", err)
		}
		if _, err := run("", "remove", "ana"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := users.Verify("ana", "correct horse battery"); ok {
			t.Errorf("a removed user still verifies")
		}
	})
	for name, tc := range map[string]struct {
		stdin string
		args  []string
		want  string
	}{
		"ErrNoPassword":    {"", []string{"add", "bob"}, "no password on standard input"},
		"ErrShortPassword": {"short\n", []string{"add", "bob"}, "at least 10 characters"},
		"ErrBadName":       {"correct horse battery\n", []string{"add", "../bob"}, "user name"},
		"ErrUsage":         {"", []string{"rename", "bob"}, "usage: prodcast user add NAME"},
		"ErrNoSuchUser":    {"", []string{"remove", "nobody"}, "there is no user"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := run(tc.stdin, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
			}
		})
	}
}
