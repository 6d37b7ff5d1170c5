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
}

// Put holds the headers stored with an object.
type Put struct {
	ContentType  string
	CacheControl string
}

// Reader is an open object: it reads, seeks and closes.
type Reader interface {
	io.ReadSeekCloser
}
