package account_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/keystore"
	"keyturn/sandbox/simnet"
)

// A second process that has to wait for the account's lock says so when
// the wait begins (naming the holder), instead of sitting silent for up to
// 15 s; it is told once, and not at all when the lock is free.
func TestLockWaitIsAnnounced(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(toks) < 2 {
		t.Fatal(err)
	}
	var told []string
	second := account.New(w.cfg, keystore.NewVault(w.store, w.cfg), account.Options{Timeout: 5 * time.Second, LockWait: 300 * time.Millisecond,
		LockWaiting: func(msg string) { told = append(told, msg) }})
	if _, err := second.Rotate(ctx, "mm", toks[1].Ref, nil); err != nil || len(told) != 0 {
		t.Fatalf("a free lock: err %v, told %q", err, told)
	}

	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Fault: simnet.Slow, Delay: time.Second, Times: 1})
	done := make(chan error, 1)
	go func() {
		_, err := w.mgr.Rotate(ctx, "mm", toks[0].Ref, nil)
		done <- err
	}()
	for deadline := time.Now().Add(time.Second); !lockHeld(w) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := second.Rotate(ctx, "mm", toks[1].Ref, nil); err == nil {
		t.Fatal("rotated while the account was held")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(told) != 1 || !strings.Contains(told[0], fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(told[0], "waiting") {
		t.Fatalf("told %q", told)
	}
}
