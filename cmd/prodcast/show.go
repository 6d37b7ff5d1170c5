package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/prodcast/prodcast/pipeline/catalog"
)

// pickShow resolves --show: the show named, else the root show, else the
// only show. It fails, saying what to do, when the show is unknown or when
// several shows leave the choice open.
func (m *Main) pickShow(ctx context.Context, st catalog.Lister) (string, error) {
	shows, err := catalog.Shows(ctx, st)
	if err != nil {
		return "", err
	}
	want := m.Config.Show
	if want != "" {
		if err := catalog.CheckShowName(want); err != nil {
			return "", fmt.Errorf("--show %q: %w", want, err)
		}
		if !slices.Contains(shows, want) {
			return "", fmt.Errorf("there is no show %q: create %s/shows/%s/show.yaml and let the watcher (or up) run, then try again (known: %s)",
				want, m.Config.Data, want, showList(shows))
		}
		return want, nil
	}
	switch {
	case len(shows) == 0 || shows[0] == "":
		return "", nil
	case len(shows) == 1:
		return shows[0], nil
	}
	return "", fmt.Errorf("there are %d shows and no root show: name one with --show (%s)", len(shows), showList(shows))
}

func showList(shows []string) string {
	if len(shows) == 0 {
		return "none yet"
	}
	var names []string
	for _, s := range shows {
		if s == "" {
			s = "(root)"
		}
		names = append(names, s)
	}
	return strings.Join(names, ", ")
}

// showLabel names a show in messages.
func showLabel(show string) string {
	if show == "" {
		return "the root show"
	}
	return "show " + show
}
