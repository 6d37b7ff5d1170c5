package bundle

import (
	"encoding/binary"
	"fmt"

	"github.com/prodcast/prodcast/pipeline"
)

// WAVHeaderBytes is how much of a WAV file CheckWAV needs to see.
const WAVHeaderBytes = 64 << 10

// CheckWAV reads a WAV file's RIFF chunks from its first bytes and refuses
// a file whose data chunk promises more bytes than the file holds: a copy
// cut short. ffprobe takes the duration of such a file from its size, so
// it would otherwise be published, cut, without a word. Writers that do
// not know the length when they start (a data size of 0 or 0xFFFFFFFF)
// and RF64 files are let through.
func CheckWAV(name string, head []byte, size int64) error {
	if len(head) < 12 || string(head[0:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		return nil // RF64, or not a WAV: ffprobe judges it
	}
	for off := int64(12); off+8 <= int64(len(head)); {
		id := string(head[off : off+4])
		n := int64(binary.LittleEndian.Uint32(head[off+4 : off+8]))
		if id == "data" {
			if n == 0 || n == 0xFFFFFFFF {
				return nil
			}
			if have := size - (off + 8); have < n {
				return pipeline.Inputf("copy the recording again and drop it once the copy has finished; check that it plays to the end",
					"the copy of %q looks unfinished: its header promises %s of audio but the file holds %s (%.0f%%)",
					name, mb(n), mb(max(have, 0)), 100*float64(max(have, 0))/float64(n))
			}
			return nil
		}
		off += 8 + n + n%2 // chunks are padded to an even length
	}
	return nil
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
