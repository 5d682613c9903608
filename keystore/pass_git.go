package keystore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

var (
	// ErrNotSynced is wrapped when the team store's git remote could not
	// be pulled from or pushed to: the secrets are stored and committed
	// locally, not shared yet.
	ErrNotSynced = errors.New("not synced")
	// ErrNoSync is wrapped when the store has nothing to sync with (not a
	// git repository, or no remote).
	ErrNoSync = errors.New("nothing to sync with")
)

// Syncer is a store shared through a remote (the pass store's git).
type Syncer interface {
	Sync(ctx context.Context) (*SyncReport, error)
}

// Committer is a store that records writes in batches (the pass store's
// git commits): SetUncommitted writes like Set, Commit records every
// write since the last commit at once.
type Committer interface {
	SetUncommitted(ctx context.Context, name, value string) error
	Commit(ctx context.Context, message string) error
}

// SyncReport is what a sync did.
type SyncReport struct {
	Remote    string     `json:"remote"`    // the git remote synced with
	Conflicts []Conflict `json:"conflicts"` // secrets both sides changed: both kept
}

// Conflict is a secret changed both here and on the remote. Neither side
// is overwritten: this side stays under Name, the remote's is kept under
// Theirs.
type Conflict struct {
	Name   string `json:"name"`
	Theirs string `json:"theirs"`
}

func (p *Pass) isGit() bool {
	st, err := os.Stat(filepath.Join(p.dir, ".git"))
	return err == nil && st.IsDir()
}

// git runs git in the store with the sync timeout when remote is set,
// else the store call's.
func (p *Pass) git(ctx context.Context, remote bool, args ...string) (string, string, error) {
	timeout := p.o.Timeout
	if remote {
		timeout = p.o.SyncTimeout
	}
	out, stderr, err := p.run(ctx, timeout, nil, "git", args...)
	return strings.TrimSpace(string(out)), stderr, err
}

// identity gives git a committer when the person configured none (a fresh
// CI home), so that a commit never fails for want of one.
func (p *Pass) identity(ctx context.Context) []string {
	if out, _, err := p.git(ctx, false, "config", "user.email"); err == nil && out != "" {
		return nil
	}
	return []string{"-c", "user.name=keyturn", "-c", "user.email=keyturn@localhost"}
}

// commit adds and commits every change under keyturn/, if the store is a
// git repository; p.mu is held. Its failure is kept for the next sync.
func (p *Pass) commit(ctx context.Context, message string) error {
	if !p.isGit() {
		return nil
	}
	ctx = context.WithoutCancel(ctx) // the files are written: record them
	err := func() error {
		if _, err := os.Stat(filepath.Join(p.dir, PassPrefix)); err != nil {
			if tracked, _, _ := p.git(ctx, false, "ls-files", "--", PassPrefix); tracked == "" {
				return nil // no keyturn secret yet, here or in git
			}
		}
		if _, stderr, err := p.git(ctx, false, "add", "-A", "--", PassPrefix); err != nil {
			return gitErr(err, stderr)
		}
		if _, _, err := p.git(ctx, false, "diff", "--cached", "--quiet", "--", PassPrefix); err == nil {
			return nil // nothing changed
		}
		args := append(p.identity(ctx), "commit", "-q", "--no-verify", "-m", message, "--", PassPrefix)
		if _, stderr, err := p.git(ctx, false, args...); err != nil {
			return gitErr(err, stderr)
		}
		return nil
	}()
	p.commitErr = err
	if err != nil {
		return p.fail("commit", "", "stored, but the git commit failed", "run `keyturn store sync`, which commits what is left", err)
	}
	return nil
}

// keepPersonal lists a personal secret's file in .git/info/exclude (this
// clone's own ignore list, never pushed) before it is first written, so
// that no commit takes it along.
func (p *Pass) keepPersonal(name string) error {
	if p.o.Personal == nil || !p.o.Personal(name) || !p.isGit() {
		return nil
	}
	exclude := filepath.Join(p.dir, ".git", "info", "exclude")
	line := "/" + PassPrefix + "/" + name + ".gpg"
	b, err := os.ReadFile(exclude)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l == line {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(exclude), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(exclude, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if len(b) > 0 && !strings.HasSuffix(string(b), "\n") {
		line = "\n" + line
	}
	_, err = f.WriteString("# keyturn: a personal secret, never shared\n" + line + "\n")
	return errors.Join(err, f.Close())
}

func gitErr(err error, stderr string) error {
	if l := lastLine(stderr); l != "" {
		return fmt.Errorf("%w: %s", err, l)
	}
	return err
}

// Sync commits what is left, fetches the remote, rebases onto it and
// pushes. A secret changed on both sides is kept twice (Conflict), never
// overwritten. A remote that cannot be reached leaves everything stored
// and committed here; the error wraps ErrNotSynced.
func (p *Pass) Sync(ctx context.Context) (*SyncReport, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.isGit() {
		return nil, p.fail("sync", "", "the pass store at "+p.dir+" is not a git repository",
			"make it one: pass git init && pass git remote add origin URL", ErrNoSync)
	}
	if err := p.commit(ctx, "keyturn: store secrets left uncommitted"); err != nil {
		return nil, err
	}
	branch, stderr, err := p.git(ctx, false, "symbolic-ref", "--short", "HEAD")
	if err != nil {
		return nil, p.fail("sync", "", "the store's git has no current branch", "", gitErr(err, stderr))
	}
	remote := p.remoteOf(ctx, branch)
	if remote == "" {
		return nil, p.fail("sync", "", "not synced: the store's git has no remote",
			"add one: pass git remote add origin URL", withKind(ErrNoSync, ErrNotSynced))
	}
	rep := &SyncReport{Remote: remote}
	notSynced := func(doing, stderr string, err error) error {
		return p.fail("sync", "", fmt.Sprintf("not synced: %s %s failed (%s)", doing, remote, remoteCause(stderr, err)),
			"the secrets are stored and committed here; run `keyturn store sync` once the remote answers",
			withKind(ErrNotSynced, gitErr(err, stderr)))
	}
	if _, stderr, err := p.git(ctx, true, "fetch", "--quiet", remote); err != nil {
		return rep, notSynced("fetching from", stderr, err)
	}
	upstream := remote + "/" + branch
	if _, _, err := p.git(ctx, false, "rev-parse", "--verify", "--quiet", upstream); err == nil {
		conflicts, err := p.rebaseOrKeepBoth(ctx, upstream)
		rep.Conflicts = conflicts
		if err != nil {
			return rep, err
		}
	}
	if _, stderr, err := p.git(ctx, true, "push", "--quiet", remote, "HEAD:refs/heads/"+branch); err != nil {
		return rep, notSynced("pushing to", stderr, err)
	}
	_, _, _ = p.git(ctx, false, "branch", "--quiet", "--set-upstream-to", upstream)
	return rep, nil
}

// remoteOf is the branch's upstream remote, else origin, else the only
// remote there is.
func (p *Pass) remoteOf(ctx context.Context, branch string) string {
	if r, _, err := p.git(ctx, false, "config", "branch."+branch+".remote"); err == nil && r != "" {
		return r
	}
	out, _, err := p.git(ctx, false, "remote")
	if err != nil || out == "" {
		return ""
	}
	remotes := strings.Fields(out)
	for _, r := range remotes {
		if r == "origin" {
			return r
		}
	}
	if len(remotes) == 1 {
		return remotes[0]
	}
	return ""
}

// remoteCause puts a failed fetch or push in words.
func remoteCause(stderr string, err error) string {
	switch {
	case errors.Is(err, errNoProgram):
		return "no git: install it (apt install git)"
	case errors.Is(err, context.DeadlineExceeded):
		return "remote unreachable: " + err.Error()
	case strings.Contains(stderr, "rejected"), strings.Contains(stderr, "fetch first"), strings.Contains(stderr, "non-fast-forward"):
		return "the remote moved on meanwhile; sync again"
	}
	return "remote unreachable: " + lastLine(stderr)
}

// rebaseOrKeepBoth rebases this side's commits onto upstream. Where both
// sides changed a keyturn secret, it merges instead, keeping this side's
// file under its name and the remote's under NAME.conflict-COMMIT.
func (p *Pass) rebaseOrKeepBoth(ctx context.Context, upstream string) ([]Conflict, error) {
	args := append(p.identity(ctx), "rebase", "--quiet", upstream)
	_, stderr, err := p.git(ctx, false, args...)
	if err == nil {
		return nil, nil
	}
	files, _, lerr := p.git(ctx, false, "diff", "--name-only", "--diff-filter=U")
	_, _, _ = p.git(ctx, false, "rebase", "--abort")
	if lerr != nil || files == "" {
		return nil, p.fail("sync", "", "git rebase failed", "look at the store with git status in "+p.dir, gitErr(err, stderr))
	}
	for _, f := range strings.Fields(files) {
		if !strings.HasPrefix(f, PassPrefix+"/") || !strings.HasSuffix(f, ".gpg") {
			return nil, p.fail("sync", "", "a conflict outside keyturn's secrets: "+f,
				"resolve it with git in "+p.dir+", then run keyturn store sync", withKind(ErrNotSynced, errors.New("conflict")))
		}
	}
	return p.mergeKeepingBoth(ctx, upstream)
}

func (p *Pass) mergeKeepingBoth(ctx context.Context, upstream string) ([]Conflict, error) {
	short, _, err := p.git(ctx, false, "rev-parse", "--short", upstream)
	if err != nil {
		return nil, p.fail("sync", "", "cannot name the remote's commit", "", err)
	}
	abort := func(why string, err error) ([]Conflict, error) {
		_, _, _ = p.git(ctx, false, "merge", "--abort")
		return nil, p.fail("sync", "", why, "look at the store with git status in "+p.dir, err)
	}
	args := append(p.identity(ctx), "merge", "--quiet", "--no-ff", "--no-commit", upstream)
	_, _, _ = p.git(ctx, false, args...) // conflicts expected
	files, _, err := p.git(ctx, false, "diff", "--name-only", "--diff-filter=U")
	if err != nil {
		return abort("cannot list the conflicts", err)
	}
	var conflicts []Conflict
	for _, f := range strings.Fields(files) {
		c, err := p.keepBoth(ctx, f, short)
		if err != nil {
			return abort("cannot keep both sides of "+f, err)
		}
		conflicts = append(conflicts, c)
	}
	msg := fmt.Sprintf("keyturn: keep both sides of %d secret(s) changed here and on the remote", len(conflicts))
	args = append(p.identity(ctx), "commit", "-q", "--no-verify", "-m", msg)
	if _, stderr, err := p.git(ctx, false, args...); err != nil {
		return abort("cannot commit the merge", gitErr(err, stderr))
	}
	return conflicts, nil
}

// keepBoth settles one conflicting file: this side's version stays (or the
// remote's, when this side deleted it), and the remote's is also written
// beside it as NAME.conflict-COMMIT.gpg.
func (p *Pass) keepBoth(ctx context.Context, f, short string) (Conflict, error) {
	name := strings.TrimSuffix(strings.TrimPrefix(f, PassPrefix+"/"), ".gpg")
	c := Conflict{Name: name, Theirs: name + ".conflict-" + short}
	stages, _, err := p.git(ctx, false, "ls-files", "-u", "--", f)
	if err != nil {
		return c, err
	}
	has := func(stage string) bool {
		for _, l := range strings.Split(stages, "\n") {
			if fs := strings.Fields(l); len(fs) >= 3 && fs[2] == stage {
				return true
			}
		}
		return false
	}
	ours, theirs := has("2"), has("3")
	if !ours {
		// Deleted here, changed there: theirs is the only copy.
		if _, _, err := p.git(ctx, false, "checkout", "--theirs", "--", f); err != nil {
			return c, err
		}
		c.Theirs = name
		_, _, err = p.git(ctx, false, "add", "--", f)
		return c, err
	}
	if _, _, err := p.git(ctx, false, "checkout", "--ours", "--", f); err != nil {
		return c, err
	}
	files := []string{f}
	if theirs {
		blob, _, err := p.run(ctx, p.o.Timeout, nil, "git", "show", ":3:"+f)
		if err != nil {
			return c, err
		}
		side := filepath.Join(p.dir, PassPrefix, filepath.FromSlash(c.Theirs)+".gpg")
		if err := os.WriteFile(side, blob, 0o600); err != nil {
			return c, err
		}
		files = append(files, PassPrefix+"/"+c.Theirs+".gpg")
	} else {
		c.Theirs = "" // deleted there: nothing of theirs to keep
	}
	_, _, err = p.git(ctx, false, append([]string{"add", "--"}, files...)...)
	return c, err
}
