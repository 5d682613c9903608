package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/sandbox/simnet"
)

// A secret the server replaced stays marked until a code from it is
// accepted: the old one in the authenticator no longer signs in.
func TestReplacedMFASecretStaysUnconfirmedUntilActivated(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	st, err := w.mgr.Show(ctx, "mm")
	if err != nil {
		t.Fatal(err)
	}
	if st.MFAUnconfirmed != nil {
		t.Fatalf("before any setup: unconfirmed = %v", st.MFAUnconfirmed)
	}
	setup, err := w.mgr.BeginMFA(ctx, "mm", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Abandoned here: a new manager (the next run) still knows.
	st, err = w.mgr.Show(ctx, "mm")
	if err != nil {
		t.Fatal(err)
	}
	if st.MFAUnconfirmed == nil {
		t.Fatal("a replaced secret that was never activated is not marked")
	}
	// A wrong code leaves it marked.
	if _, err := w.mgr.ActivateMFA(ctx, "mm", "000000", nil); err == nil {
		t.Fatal("a wrong code must fail")
	}
	if st, _ := w.mgr.Show(ctx, "mm"); st.MFAUnconfirmed == nil {
		t.Fatal("a refused code cleared the mark")
	}
	code := simnet.TOTPCode(setup.Secret, time.Now().Add(30*time.Second))
	if _, err := w.mgr.ActivateMFA(ctx, "mm", code, nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := w.mgr.Show(ctx, "mm"); st.MFAUnconfirmed != nil {
		t.Fatal("activation did not clear the mark")
	}
}

// A first setup (MFA off) replaces nothing; switching MFA off ends the risk.
func TestMFAUnconfirmedOnlyForAReplacedSecret(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	if _, err := w.mgr.BeginMFA(ctx, "mm", true, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.mgr.DisableMFA(ctx, "mm", ""); err != nil {
		t.Fatal(err)
	}
	if st, _ := w.mgr.Show(ctx, "mm"); st.MFAUnconfirmed != nil {
		t.Fatal("MFA switched off, yet the secret is still marked unconfirmed")
	}
	if _, err := w.mgr.BeginMFA(ctx, "mm", false, nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := w.mgr.Show(ctx, "mm"); st.MFAUnconfirmed != nil {
		t.Fatal("a first setup replaced nothing, yet it is marked")
	}
	if _, err := w.mgr.BeginMFA(ctx, "mm", false, nil); errors.Is(err, account.ErrMFAActive) {
		t.Fatal("setup is not active yet")
	}
}
