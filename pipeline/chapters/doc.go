// Package chapters reads an episode's chapters from the bundle, in any of
// three forms, into one list: chapters.txt with "HH:MM:SS Title [URL]" (or
// "MM:SS") lines, an Audacity label file (start, end and label separated by
// tabs), or chapters.json in the podcast:chapters format. Problems name the
// line, so the producer can fix them.
//
//	cs, warnings, err := chapters.Parse("chapters.txt", data, duration)
package chapters
