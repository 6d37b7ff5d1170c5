// Package bundle reads what the producer drops: an episode bundle (a folder
// with episode.md, one recording and optional extras) or a lone audio file,
// and show.yaml. It turns every mistake into a pipeline.InputError that says
// what is wrong and how to fix it.
//
//	b, err := bundle.Parse("ep42", []string{"episode.md", "talk.wav"}, md)
//	// b.Recording == "talk.wav", b.Meta.Title == "...", b.Meta.Slug == "..."
package bundle
