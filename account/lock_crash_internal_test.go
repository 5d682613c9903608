package account

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keyturn/config"
	"keyturn/keystore"
)

// TestCrashedHolderDoesNotBlockTheAccount: a keyturn process killed while
// it holds an account (SIGKILL: no deferred unlock runs) leaves its lock
// file and owner note behind; the next process still takes the account at
// once. While the holder lived, a waiter named it.
func TestCrashedHolderDoesNotBlockTheAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	cfgPath := filepath.Join(t.TempDir(), "config.json")
	child := exec.Command(os.Args[0], "-test.run=^TestHelperHoldAccountLock$")
	child.Env = append(os.Environ(), "KEYTURN_TEST_HOLD_LOCK="+cfgPath)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "held") {
		t.Fatalf("the holder did not take the lock: %q %v", line, err)
	}
	newManager := func(wait time.Duration) *Manager {
		cf := config.Open(cfgPath)
		return New(cf, keystore.NewVault(keystore.NewMemory(), cf), Options{LockWait: wait})
	}
	if _, err := newManager(100*time.Millisecond).lockAccount(context.Background(), "mm", "waiting"); err == nil ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d", child.Process.Pid)) {
		t.Fatalf("a waiter while the holder lives: want an error naming it, got %v", err)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	start := time.Now()
	unlock, err := newManager(5*time.Second).lockAccount(context.Background(), "mm", "after the crash")
	if err != nil {
		t.Fatalf("the crashed holder still blocks the account: %v", err)
	}
	unlock()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("taking the account after the crash took %v", d)
	}
}

// TestHelperHoldAccountLock is the holder of TestCrashedHolderDoesNotBlockTheAccount.
func TestHelperHoldAccountLock(t *testing.T) {
	path := os.Getenv("KEYTURN_TEST_HOLD_LOCK")
	if path == "" {
		t.Skip("run by TestCrashedHolderDoesNotBlockTheAccount")
	}
	cf := config.Open(path)
	m := New(cf, keystore.NewVault(keystore.NewMemory(), cf), Options{})
	if _, err := m.lockAccount(context.Background(), "mm", "rotating"); err != nil {
		fmt.Println("failed:", err)
		os.Exit(1)
	}
	fmt.Println("held")
	time.Sleep(time.Minute)
	os.Exit(0)
}
