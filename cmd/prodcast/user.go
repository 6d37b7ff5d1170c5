package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/prodcast/prodcast/desk"
)

// runUser adds or removes an account of the desk. The password comes from
// standard input: asked twice, unechoed, on a terminal; else its first
// line, so that scripts can pipe it in.
func (m *Main) runUser(ctx context.Context, args []string) error {
	if len(args) != 2 || (args[0] != "add" && args[0] != "remove") {
		return errors.New("usage: prodcast user add NAME (the password is read from standard input), or prodcast user remove NAME")
	}
	users := desk.Users{Path: filepath.Join(m.Config.Data, desk.UsersFile)}
	verb, name := args[0], args[1]
	if verb == "remove" {
		if err := users.Remove(name); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "user %s removed from %s; their sessions end within a few minutes of their next request\n", name, users.Path)
		return nil
	}
	if err := desk.CheckUserName(name); err != nil {
		return err
	}
	password, err := m.readPassword(name)
	if err != nil {
		return err
	}
	if err := users.Add(name, password); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "user %s can log in at %s/admin/login (accounts: %s)\n", name, m.Config.BaseURL, users.Path)
	return nil
}

func (m *Main) readPassword(name string) (string, error) {
	if f, ok := m.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(m.Stderr, "password for %s (at least %d characters): ", name, desk.MinPassword)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(m.Stderr, "again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.Stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ; nothing changed")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on standard input: pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | prodcast user add NAME`")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
