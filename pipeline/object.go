package pipeline

import (
	"io"
	"time"
)

// Object describes a stored object.
type Object struct {
	Key          string
	Size         int64
	ETag         string // the MD5 of the bytes, for objects uploaded whole
	ContentType  string
	CacheControl string
	LastModified time.Time
	Status       int     // the HTTP status to serve it with; 0 is 200
	Duration     float64 // seconds of audio, for media; 0 if unknown
}

// Put holds the headers stored with an object.
type Put struct {
	ContentType  string
	CacheControl string
	Status       int     // the HTTP status to serve it with, if not 200 (410 for a withdrawn episode's page)
	Duration     float64 // seconds of audio, for media: the listener counts need the average bitrate
}

// Reader is an open object: it reads, seeks and closes.
type Reader interface {
	io.ReadSeekCloser
}
