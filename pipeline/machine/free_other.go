//go:build !unix

package machine

import "errors"

// Free cannot tell the room of a folder on this system.
func Free(path string) (int64, error) { return -1, errors.ErrUnsupported }
