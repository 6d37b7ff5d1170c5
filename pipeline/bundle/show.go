package bundle

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/prodcast/prodcast/pipeline"
)

// ParseShow reads show.yaml, fills in defaults (baseURL is used when the
// file names none) and validates it.
func ParseShow(data []byte, baseURL string) (*pipeline.Show, error) {
	var s pipeline.Show
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return nil, &pipeline.InputError{
			Problem: "show.yaml is not valid",
			Fix:     "fix the YAML; the keys are title, description, author, owner, language, category, subcategory, explicit, image, base_url, funding, audio, templates, notify, analytics, topics, txt, license, location, medium, update_frequency, podroll, publisher, block, complete, new_feed_url, apple_id",
			Err:     err,
		}
	}
	s.Defaults(baseURL)
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// StarterShow is the commented show.yaml that `prodcast up` writes when the
// data folder has none.
const StarterShow = `# show.yaml: the podcast as a whole. Edit it; prodcast picks up changes.
title: "Python in Production"
description: >-
  Interviews with the people who run Python web and network services in
  production: Python 2 to 3, life without Kubernetes, Docker, async
  frameworks, OpenAPI and GraphQL, Flask and Falcon patterns, OAuth 2.0.
author: "The Python in Production team"
owner:
  name: "Producer"
  email: "producer@example.com"
language: en            # BCP 47
category: Technology    # an Apple Podcasts category
subcategory: ""         # optional, e.g. "Software How-To" is not Apple's; leave empty if unsure
explicit: false
# image: cover.png      # relative to this folder or a URL; square, 1400-3000 px
# base_url: https://podcast.example.com   # defaults to http://<listen address>
# funding:
#   url: https://example.com/support
#   text: Support the show
# topics a guest may pick on the pitch form (/pitch/), besides the episodes' tags
topics: [python-3-migration, no-kubernetes, docker, async, openapi, graphql, flask, falcon, oauth2]
# templates: theme      # a folder of your own episode.html, index.html, base.html,
#                       # tag.html, about.html or style.css, replacing the built-in ones
`

// IsStarterShow reports whether a show.yaml is the starter one, as `up`
// wrote it (with or without its placeholder art): nobody's work is lost
// when it is replaced.
func IsStarterShow(data []byte) bool {
	s := string(data)
	return s == StarterShow || s == StarterShowWithArt()
}

// StarterShowWithArt is the starter show.yaml that names the placeholder
// cover.png `up` makes beside it.
func StarterShowWithArt() string {
	return strings.Replace(StarterShow, "# image: cover.png", "image: cover.png", 1)
}
