package config

import (
	"bytes"
	"io"
	"os"
	"sync"
)

// FileHolds reports whether the file at path holds exactly want, reading it
// a piece at a time. The config file and the file store keep what they last
// read or wrote and ask this before using it again: a whole read was a copy
// of the file made only to be compared, and at 10,000 entries these files
// are megabytes read several times per command. A file that cannot be
// opened is an error.
func FileHolds(path string, want []byte) (bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer fh.Close()
	if st, err := fh.Stat(); err != nil || st.Size() != int64(len(want)) {
		return false, err
	}
	bp := compareBufs.Get().(*[32 << 10]byte)
	defer compareBufs.Put(bp)
	for len(want) > 0 {
		n, err := io.ReadFull(fh, bp[:min(len(bp), len(want))])
		if err != nil || !bytes.Equal(bp[:n], want[:n]) {
			return false, nil
		}
		want = want[n:]
	}
	// Both files are replaced by rename, never rewritten in place: the
	// length read is the length the file has.
	return true, nil
}

var compareBufs = sync.Pool{New: func() any { return new([32 << 10]byte) }}
