package config

import (
	"bytes"
	"hash/maphash"
	"io"
	"os"
	"sync"
)

// FileHolds reports whether the file at path holds exactly want, reading it
// a piece at a time. The file store keeps what it last read or wrote and
// asks this before using it again: a whole read was a copy of the file made
// only to be compared, and at 10,000 secrets the file is a megabyte read
// several times per command. A file that cannot be opened is an error.
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

// digest names a file's contents: its length and a 64-bit hash of its bytes
// (hash/maphash, seeded once per process). Two contents with the same
// digest by chance is a 1 in 2^64 event per comparison; a person who can
// write the file can change what keyturn reads anyway.
type digest struct {
	size int64
	sum  uint64
}

var digestSeed = maphash.MakeSeed()

func digestOf(data []byte) digest {
	return digest{size: int64(len(data)), sum: maphash.Bytes(digestSeed, data)}
}

// fileDigest is the digest of the file at path, read a piece at a time.
func fileDigest(path string) (digest, error) {
	fh, err := os.Open(path)
	if err != nil {
		return digest{}, err
	}
	defer fh.Close()
	var h maphash.Hash
	h.SetSeed(digestSeed)
	bp := compareBufs.Get().(*[32 << 10]byte)
	defer compareBufs.Put(bp)
	var size int64
	for {
		// Read by hand: io.Copy would take os.File's WriteTo and a buffer
		// of its own per call.
		n, err := fh.Read(bp[:])
		_, _ = h.Write(bp[:n])
		size += int64(n)
		if err == io.EOF {
			return digest{size: size, sum: h.Sum64()}, nil
		}
		if err != nil {
			return digest{}, err
		}
	}
}
