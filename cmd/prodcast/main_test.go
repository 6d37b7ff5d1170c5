package main

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		yes  bool
		show string
	}{
		{[]string{"--yes", "ep"}, []string{"ep"}, true, ""},
		{[]string{"ep", "--yes"}, []string{"ep"}, true, ""},
		{[]string{"--show", "alpha", "ep", "--yes"}, []string{"ep"}, true, "alpha"},
		{[]string{"ep"}, []string{"ep"}, false, ""},
		{[]string{"a", "b", "--show=x"}, []string{"a", "b"}, false, "x"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		yes := fs.Bool("yes", false, "")
		show := fs.String("show", "", "")
		got, err := parseInterspersed(fs, tc.args)
		if err != nil || !slices.Equal(got, tc.want) || *yes != tc.yes || *show != tc.show {
			t.Errorf("%v: %v %v yes=%v show=%q", tc.args, got, err, *yes, *show)
		}
	}
}
