package web

import "testing"

func TestPitchPath(t *testing.T) {
	for p, want := range map[string]string{"/pitch/": "", "/python-weekly/pitch/": "python-weekly"} {
		if show, ok := pitchPath(p); !ok || show != want {
			t.Errorf("pitchPath(%q) = %q, %v", p, show, ok)
		}
	}
	for _, p := range []string{"/pitch", "/pitch/x", "/a/b/pitch/", "/episodes/pitch/", "/Bad_Name/pitch/", "/x/pitch/y"} {
		if _, ok := pitchPath(p); ok {
			t.Errorf("pitchPath(%q) took a route that is not a pitch form", p)
		}
	}
}
