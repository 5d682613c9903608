package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"keyturn/config"
)

// lockOwner is written beside an account's lock by the process holding
// it, so that another one can say who it waits for.
type lockOwner struct {
	PID   int       `json:"pid"`
	Doing string    `json:"doing"`
	Since time.Time `json:"since"`
}

// lockAccount takes the account's lock for an operation that issues or
// replaces its tokens: two keyturn processes rotating one account could
// otherwise store the older token last, and would share its journals. A
// second process waits (Options.LockWait, else config.LockTimeout), then
// says which process holds the account and what it is doing.
func (m *Manager) lockAccount(ctx context.Context, account, doing string) (unlock func(), err error) {
	// The file store's passphrase is asked before the account is taken,
	// not while another process waits for a person typing. Its error is
	// the operation's to meet and report (a store that cannot open still
	// hands an issued token back, NOT saved).
	_ = m.vault.Open(ctx)
	dir := filepath.Join(filepath.Dir(m.cfg.Path), "locks")
	if err := config.MkdirPrivate(dir); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, fileStem(account))
	release, err := m.waitLock(ctx, account, base)
	if err != nil {
		return nil, err
	}
	owner := base + ".owner"
	b, _ := json.Marshal(lockOwner{PID: os.Getpid(), Doing: doing, Since: m.opts.Now().UTC()})
	// Best effort: it only names the holder to a process that waits.
	_ = config.WriteFileAtomic(owner, b, 0o600)
	return func() {
		_ = os.Remove(owner)
		_ = release()
	}, nil
}

// waitLock takes the lock at base, first telling Options.LockWaiting when
// it has to wait for it.
func (m *Manager) waitLock(ctx context.Context, account, base string) (release func() error, err error) {
	failed := func(err error) error {
		if errors.Is(err, config.ErrLocked) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s; try again when it has finished", busy(account, base))
		}
		return fmt.Errorf("%s: %w", account, err)
	}
	wait := config.LockTimeout
	if m.opts.LockWait > 0 {
		wait = m.opts.LockWait
	}
	if m.opts.LockWaiting != nil {
		quick, cancel := context.WithTimeout(ctx, min(50*time.Millisecond, wait))
		release, err = config.Lock(quick, base)
		cancel()
		if err == nil {
			return release, nil
		}
		if !errors.Is(err, config.ErrLocked) {
			return nil, failed(err)
		}
		m.opts.LockWaiting(fmt.Sprintf("%s; waiting up to %s for it", busy(account, base), wait))
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if release, err = config.Lock(ctx, base); err != nil {
		return nil, failed(err)
	}
	return release, nil
}

// busy names the process holding an account, as far as it said.
func busy(account, base string) string {
	o, ok := readOwner(base + ".owner")
	if !ok {
		return fmt.Sprintf("account %s is busy: another keyturn process is issuing or rotating its tokens (lock file %s)", account, config.LockPath(base))
	}
	return fmt.Sprintf("account %s is busy: keyturn (pid %d) has been %s since %s (lock file %s)",
		account, o.PID, o.Doing, o.Since.Local().Format("15:04:05"), config.LockPath(base))
}

func readOwner(path string) (lockOwner, bool) {
	f, err := config.OpenNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return lockOwner{}, false
	}
	defer f.Close()
	var o lockOwner
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil || json.Unmarshal(b, &o) != nil || o.PID <= 0 {
		return lockOwner{}, false
	}
	o.Doing = sanitizeDoing(o.Doing)
	return o, true
}

// sanitizeDoing keeps what another process wrote from reaching a
// terminal with control characters in it, or at length.
func sanitizeDoing(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80])
	}
	return s
}

// lockedSession is session under the account's lock, for an operation
// that issues, replaces or revokes a token. unlock releases the lock.
func (m *Manager) lockedSession(ctx context.Context, account, doing string) (s *session, unlock func(), err error) {
	if _, err := m.account(account); err != nil {
		return nil, nil, err
	}
	if unlock, err = m.lockAccount(ctx, account, doing); err != nil {
		return nil, nil, err
	}
	if s, err = m.session(ctx, account); err != nil {
		unlock()
		return nil, nil, err
	}
	return s, unlock, nil
}
