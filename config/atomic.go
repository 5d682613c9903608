package config

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gofrs/flock"
)

// LockTimeout bounds how long Update (and the keystore's file backend) waits
// for another keyturn process to release a lock file before giving up with a
// clear error instead of hanging.
const LockTimeout = 15 * time.Second

// LockPath is the lock file that guards path: a sibling named path + ".lock".
// It is never removed: removing a lock file that another process is about to
// lock would let two writers in at once.
func LockPath(path string) string { return path + ".lock" }

// ErrLocked is wrapped by Lock's error when another keyturn process held
// the lock for the whole wait.
var ErrLocked = errors.New("locked by another keyturn process")

// ErrSymlink is wrapped by the error of an open that refused a symbolic
// link: keyturn never writes through one, so a link planted in its
// directory cannot make it write elsewhere.
var ErrSymlink = errors.New("is a symbolic link, which keyturn does not follow for files it writes")

// OpenNoFollow is os.OpenFile that refuses a symbolic link at path (with
// O_NOFOLLOW where the system has it, else by Lstat first).
func OpenNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s %w; remove it or move it away", path, ErrSymlink)
	}
	f, err := os.OpenFile(path, flag|noFollow, perm)
	if err != nil && isLoop(err) {
		return nil, fmt.Errorf("%s %w; remove it or move it away", path, ErrSymlink)
	}
	return f, err
}

// isLoop reports an open refused by O_NOFOLLOW (ELOOP on Linux, EMLINK on
// some BSDs), checked again with Lstat so that no other error is mistaken.
func isLoop(err error) bool {
	var pe *os.PathError
	if !errors.As(err, &pe) {
		return false
	}
	fi, lerr := os.Lstat(pe.Path)
	return lerr == nil && fi.Mode()&os.ModeSymlink != 0
}

// MkdirPrivate creates dir (0700) if needed and checks that it is a
// directory of this user's that nobody else can write in, since keyturn
// keeps its account locks and rotation journals there: in a directory
// another user can write in (a config file under /tmp, say), they could hold
// the lock or swap the journal.
func MkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory (a link or a file is in its place); remove it or move it away", dir)
	}
	if why := privateDirProblem(fi); why != "" {
		return fmt.Errorf("%s %s; keyturn keeps its locks and journals only in a directory of yours that nobody else can write in: remove it, or keep the config file (--config) in a private directory", dir, why)
	}
	return nil
}

// Lock takes the exclusive lock guarding path (see LockPath), creating the
// directory (0700) and the lock file (0600) if needed. It waits until ctx is
// done or LockTimeout has passed, whichever comes first. The returned function
// releases the lock.
func Lock(ctx context.Context, path string) (unlock func() error, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", path, err)
	}
	ctx, cancel := context.WithTimeout(ctx, LockTimeout)
	defer cancel()
	lp := LockPath(path)
	if fi, err := os.Lstat(lp); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("lock file %s %w; remove it or move it away", lp, ErrSymlink)
	}
	flag := os.O_CREATE | os.O_RDONLY
	switch runtime.GOOS {
	case "aix", "solaris", "illumos": // no write lock on a read-only file there
		flag = os.O_CREATE | os.O_RDWR
	}
	lk := flock.New(lp, flock.SetFlag(flag|noFollow), flock.SetPermissions(0o600))
	ok, err := lk.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil || !ok {
		if errors.Is(err, context.DeadlineExceeded) || (err == nil && !ok) {
			return nil, fmt.Errorf("%s is %w (lock file %s); try again when it has finished", path, ErrLocked, lp)
		}
		if isLoop(err) {
			return nil, fmt.Errorf("lock file %s %w; remove it or move it away", lp, ErrSymlink)
		}
		if errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("waiting for the lock on %s: %w", path, err)
		}
		return nil, fmt.Errorf("lock %s: %w", LockPath(path), err)
	}
	return lk.Unlock, nil
}

// WriteFileAtomic replaces path with data so that a reader (or a crash) sees
// either the old file or the new one, never a mix: it writes a temporary file
// in the same directory with mode perm, fsyncs it, renames it over path and
// fsyncs the directory. The directory is created (0700) if needed.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return WriteFileAtomicWith(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFileAtomicWith is WriteFileAtomic with the contents written by
// write, through a buffer, so that they need not be held whole in memory
// first (the config of 10,000 index entries is megabytes). If write fails,
// the file is left as it was and its error is returned as it is.
func WriteFileAtomicWith(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("write %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(tmp, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. Best effort: some platforms and file
// systems (Windows, some network mounts) cannot fsync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
