package desk

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	u := Users{Path: filepath.Join(t.TempDir(), UsersFile)}
	if err := u.Add("ana", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(u.Path)
	if strings.Contains(string(b), "correct horse") || !strings.Contains(string(b), "$argon2id$") {
		t.Fatalf("users.json keeps the password or no argon2id hash:\n%s", b)
	}
	if fi, _ := os.Stat(u.Path); fi.Mode().Perm() != 0o600 {
		t.Errorf("users.json is %v, want 0600", fi.Mode().Perm())
	}
	for _, tc := range []struct {
		name, password string
		want           bool
	}{{"ana", "correct horse battery", true}, {"ana", "correct horse batterY", false}, {"bob", "correct horse battery", false}} {
		if ok, err := u.Verify(tc.name, tc.password); ok != tc.want || err != nil {
			t.Errorf("Verify(%q, %q) = %v, %v", tc.name, tc.password, ok, err)
		}
	}
	if err := u.Add("ana", "a new password!"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := u.Verify("ana", "correct horse battery"); ok {
		t.Errorf("the old password still works after a change")
	}
	if err := u.Add("Ana/..", "correct horse battery"); err == nil {
		t.Errorf("a bad name was taken")
	}
	if err := u.Add("bob", "short"); err == nil {
		t.Errorf("a short password was taken")
	}
	if err := u.Remove("ana"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := u.Verify("ana", "a new password!"); ok {
		t.Errorf("a removed user can log in")
	}
	if err := u.Remove("ana"); err == nil {
		t.Errorf("removing a missing user succeeded")
	}
}

func TestMemoryLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &MemoryLimiter{Now: func() time.Time { return now }}
	ctx := context.Background()
	for i := 1; i <= 4; i++ {
		ok, _, _ := l.Allow(ctx, "k", 3, time.Hour)
		if ok != (i <= 3) {
			t.Errorf("event %d: ok=%v", i, ok)
		}
	}
	if n, _ := l.Count(ctx, "k"); n != 4 {
		t.Errorf("count %d, want 4", n)
	}
	now = now.Add(time.Hour)
	if ok, _, _ := l.Allow(ctx, "k", 3, time.Hour); !ok {
		t.Errorf("a new window is still limited")
	}
	l.Reset(ctx, "k")
	if n, _ := l.Count(ctx, "k"); n != 0 {
		t.Errorf("count %d after Reset", n)
	}
}
