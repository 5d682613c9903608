package config

import (
	"context"
	"errors"
	"fmt"
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
	lk := flock.New(LockPath(path))
	ok, err := lk.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil || !ok {
		if errors.Is(err, context.DeadlineExceeded) || (err == nil && !ok) {
			return nil, fmt.Errorf("%s is locked by another keyturn process (lock file %s); try again when it has finished", path, LockPath(path))
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
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
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
	if _, err := tmp.Write(data); err != nil {
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
