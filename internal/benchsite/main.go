// Command benchsite renders the shared Hugo benchmark corpus with prodcast's
// site renderer and writes the files to disk, as Hugo does, and prints the
// time it took. scripts/bench.sh runs it next to Hugo on the same corpus.
//
//	go run ./internal/benchsite CORPUS OUT
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/prodcast/prodcast/pipeline"
	"github.com/prodcast/prodcast/pipeline/site"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: benchsite CORPUS OUT")
		os.Exit(2)
	}
	start := time.Now()
	eps, err := load(filepath.Join(os.Args[1], "content", "episodes"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsite:", err)
		os.Exit(1)
	}
	show := &pipeline.Show{Title: "Python in Production", Description: "Benchmark", Author: "Host",
		Language: "en", BaseURL: "http://localhost"}
	files, err := site.Render(show, eps, time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsite:", err)
		os.Exit(1)
	}
	for path, f := range files {
		p := filepath.Join(os.Args[2], path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "benchsite:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(p, f.Body, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "benchsite:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("%d episodes, %d files, %.3f s\n", len(eps), len(files), time.Since(start).Seconds())
}

// load reads the corpus's Markdown files into published manifests.
func load(dir string) ([]*pipeline.Manifest, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var eps []*pipeline.Manifest
	for i, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		front, body, ok := bytes.Cut(bytes.TrimPrefix(data, []byte("---\n")), []byte("\n---\n"))
		if !ok {
			return nil, fmt.Errorf("%s has no front matter", e.Name())
		}
		var fm struct {
			Title string    `yaml:"title"`
			Date  time.Time `yaml:"date"`
			Guest string    `yaml:"guest"`
			Audio string    `yaml:"audio"`
		}
		if err := yaml.Unmarshal(front, &fm); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		slug := strings.TrimSuffix(e.Name(), ".md")
		eps = append(eps, &pipeline.Manifest{
			Slug: slug, GUID: slug, State: pipeline.StatePublished, PublishedAt: fm.Date.Add(time.Duration(i) * time.Hour),
			Meta:    pipeline.Meta{Title: fm.Title, Slug: slug, Guests: []pipeline.Guest{{Name: fm.Guest}}},
			NotesMD: string(body),
			MP3:     &pipeline.Media{Key: "public" + fm.Audio, ContentType: "audio/mpeg", Bytes: 1, Duration: 1800},
		})
	}
	return eps, nil
}
