package pipeline

import (
	"fmt"
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
	// SHA256, for PutFile: the file's hash when it was read before. The
	// bytes uploaded are hashed on the way; if they differ (the file
	// changed since), the object is not kept and PutFile returns a
	// *ChangedError.
	SHA256 string
}

// ChangedError says that a file changed between its hash and its upload.
type ChangedError struct {
	Path      string
	Want, Got string // SHA-256, hex
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s changed while it was uploaded: its SHA-256 was %s, the bytes uploaded have %s", e.Path, e.Want, e.Got)
}

// Reader is an open object: it reads, seeks and closes.
type Reader interface {
	io.ReadSeekCloser
}

// Image is one published size of a piece of art.
type Image struct {
	Key    string `json:"key"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Type   string `json:"type"` // image/jpeg, image/png or image/webp
}

// ArtKeys are the keys of all sizes of a piece of art, the art's own first.
func ArtKeys(art string, sizes []Image) []string {
	if art == "" {
		return nil
	}
	keys := []string{art}
	for _, s := range sizes {
		if s.Key != art {
			keys = append(keys, s.Key)
		}
	}
	return keys
}
