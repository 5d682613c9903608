package account_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/audit"
	"keyturn/config"
	"keyturn/keystore"
)

// actions is the log's entries as "action account ref-or-secret outcome".
func actions(t *testing.T, m *account.Manager, f account.LogFilter) []string {
	t.Helper()
	es, skipped, err := m.Log(context.Background(), f)
	if err != nil || skipped != 0 {
		t.Fatalf("log: %v, %d skipped", err, skipped)
	}
	var out []string
	for _, e := range es {
		what := e.Ref
		if what == "" {
			what = e.Secret
		}
		out = append(out, strings.Join([]string{e.Action, e.Account, what, e.Outcome}, " "))
	}
	return out
}

func TestAuditLogHasOneEntryPerOperationAndNoSecret(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.mattermostSignedIn()
	toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil {
		t.Fatal(err)
	}
	cmd := toks[0].Ref
	if _, err := w.mgr.Fetch(ctx, "mm", cmd); err != nil {
		t.Fatal(err)
	}
	if _, err := w.mgr.Rotate(ctx, "mm", cmd, nil); err != nil {
		t.Fatal(err)
	}
	iss, err := w.mgr.Create(ctx, "mm", "ci", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, utRef, _ := account.ParseSecretName(iss.Name)
	if err := w.mgr.Revoke(ctx, "mm", utRef, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.mgr.Rotate(ctx, "mm", account.Ref{Kind: account.KindCommand, ID: "nosuchcommand0000000000000"}, nil); err == nil {
		t.Fatal("rotating an unknown command worked")
	}
	name := account.SecretName("mm", cmd)
	if _, err := w.mgr.ReadSecret(ctx, name, account.ActReveal); err != nil {
		t.Fatal(err)
	}
	if _, err := w.mgr.ReadSecret(ctx, name, account.ActCopy); err != nil {
		t.Fatal(err)
	}
	if err := w.mgr.SetSecret(ctx, config.SecretMeta{Name: "imported/tok", Kind: "imported"}, "imported-value-123456"); err != nil {
		t.Fatal(err)
	}
	if err := w.mgr.DeleteSecret(ctx, "imported/tok"); err != nil {
		t.Fatal(err)
	}
	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindWebhook})
	if err != nil || !rep.AllOK() {
		t.Fatal(rep, err)
	}
	if err := w.mgr.Logout(ctx, "mm"); err != nil {
		t.Fatal(err)
	}
	got := actions(t, w.mgr, account.LogFilter{})
	want := []string{
		"login mm  ok",
		"fetch mm " + cmd.String() + " ok",
		"rotate mm " + cmd.String() + " ok",
		"create mm " + utRef.String() + " ok",
		"revoke mm " + utRef.String() + " ok",
		"rotate mm command:nosuchcommand0000000000000 failed",
		"reveal mm " + name + " ok",
		"copy mm " + name + " ok",
		"secret-set  imported/tok ok",
		"secret-delete  imported/tok ok",
	}
	for _, it := range rep.Items {
		want = append(want, "rotate mm "+it.Ref+" ok")
	}
	want = append(want, "logout mm  ok")
	// Bulk entries land in the order tokens settle.
	if len(got) != len(want) || strings.Join(got[:10], "\n") != strings.Join(want[:10], "\n") || got[len(got)-1] != want[len(want)-1] {
		t.Fatalf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The wrong code of a first try is in the log too (as failed), the
	// step that only asked for it is not.
	raw, err := os.ReadFile(w.mgr.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(w.mgr.LogPath())
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v", fi.Mode().Perm())
	}
	for _, e := range w.sb.Env.Ledger.Entries() {
		if strings.Contains(string(raw), e.Token) {
			t.Errorf("the log holds the %s %s token", e.Service, e.Kind)
		}
	}
	if strings.Contains(string(raw), "imported-value-123456") {
		t.Error("the log holds an imported value")
	}
	if mm := actions(t, w.mgr, account.LogFilter{Account: "mm", Limit: 2}); len(mm) != 2 || mm[1] != "logout mm  ok" {
		t.Errorf("newest two of mm: %q", mm)
	}
}

func TestAuditLogFailureIsAWarningAndTheTokenIsKept(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var mu sync.Mutex
	var warnings []string
	w.mgr.OnWarning(func(s string) { mu.Lock(); warnings = append(warnings, s); mu.Unlock() })
	w.mattermostSignedIn()
	// A directory where the log should be: every append fails.
	if err := os.Remove(w.mgr.LogPath()); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(w.mgr.LogPath(), 0o700); err != nil {
		t.Fatal(err)
	}
	toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := w.mgr.Rotate(ctx, "mm", toks[0].Ref, nil)
	if err != nil || !iss.Stored {
		t.Fatalf("rotate with a broken log: %v", err)
	}
	if w.stored(iss.Name) != iss.Value {
		t.Fatal("the rotated token is not the stored one")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(warnings) != 1 || !strings.Contains(warnings[0], "the audit log could not be written") || !strings.Contains(warnings[0], "rotate on mm was done all the same") {
		t.Fatalf("warnings = %q", warnings)
	}
}

func TestHeldAuditEntriesCarryTheExitCode(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	m := account.New(cf, keystore.NewVault(keystore.NewMemory(), cf), account.Options{Face: "cli", HoldAudit: true})
	if _, err := m.Add(ctx, config.Account{Name: "mm", Service: account.Mattermost, URL: w.sb.MattermostURL, User: "admin"}); err != nil {
		t.Fatal(err)
	}
	if err := m.SetSecret(ctx, config.SecretMeta{Name: "mm/x", Kind: "imported"}, "value-0123456789"); err != nil {
		t.Fatal(err)
	}
	if got := actions(t, m, account.LogFilter{}); len(got) != 0 {
		t.Fatalf("written before the exit code was known: %q", got)
	}
	if err := m.FlushAudit(3); err != nil {
		t.Fatal(err)
	}
	es, _, _ := m.Log(ctx, account.LogFilter{})
	if len(es) != 1 || es[0].Exit == nil || *es[0].Exit != 3 || es[0].Face != "cli" || es[0].Account != "mm" || es[0].Outcome != audit.OK {
		t.Fatalf("entries = %+v", es)
	}
	if time.Since(es[0].Time) > time.Minute {
		t.Errorf("time = %v", es[0].Time)
	}
}

func TestAuditLogSaysWhenANotSavedTokenIsSavedAfterAll(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	toks, _ := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	w.store.Ops = []string{"set"}
	iss, err := w.mgr.Rotate(ctx, "mm", toks[0].Ref, nil)
	if err == nil {
		t.Fatal("the store did not fail")
	}
	w.store.Ops = []string{"none"}
	if err := w.mgr.RetryStore(ctx, iss); err != nil {
		t.Fatal(err)
	}
	got := actions(t, w.mgr, account.LogFilter{})
	want := []string{"login mm  ok", "rotate mm " + toks[0].Ref.String() + " failed", "secret-set mm " + toks[0].Ref.String() + " ok"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
