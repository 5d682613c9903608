package account_test

import (
	"context"
	"encoding/json"
	"keyturn/sandbox/mattermostsim"
	"net/http"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

// credentialToken is the token keyturn signs in with, read from the store.
func (w *world) credentialToken(name string) string {
	w.t.Helper()
	var c struct{ Token string }
	if err := json.Unmarshal([]byte(w.stored(name+"/credential")), &c); err != nil {
		w.t.Fatal(err)
	}
	return c.Token
}

func (w *world) rocketAliceByPAT() *account.Answer {
	w.t.Helper()
	ctx := context.Background()
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "alice"})
	if _, err := w.mgr.LoginWithToken(ctx, "rc", rocketchatsim.AlicePAT, rocketchatsim.AliceID); err != nil {
		w.t.Fatal(err)
	}
	return &account.Answer{Method: "totp", Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())}
}

// Rotating the Rocket.Chat PAT keyturn signs in with keeps keyturn signed
// in: the credential becomes the new token once it is stored.
func TestRotatingTheSignInPATUpdatesTheCredential(t *testing.T) {
	w := newWorld(t)
	ans := w.rocketAliceByPAT()
	ctx := context.Background()
	iss, err := w.mgr.Rotate(ctx, "rc", account.Ref{Kind: account.KindPAT, ID: rocketchatsim.AlicePATName}, ans)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.credentialToken("rc"); got != iss.Value {
		t.Fatal("the credential is still the rotated-away token")
	}
	if _, err := w.mgr.Tokens(ctx, "rc", account.ListFilter{}); err != nil {
		t.Fatalf("a call after rotating the sign-in token: %v", err)
	}
}

// A bulk run rotates the sign-in PAT last, so the rest of the batch is not
// refused, and keeps keyturn signed in.
func TestRotateAllRotatesTheSignInPATLast(t *testing.T) {
	w := newWorld(t)
	ans := w.rocketAliceByPAT()
	ctx := context.Background()
	for _, n := range []string{"a", "b", "c", "zz"} {
		if _, err := w.mgr.Create(ctx, "rc", n, false, ans); err != nil {
			t.Fatal(err)
		}
	}
	mark := len(w.sb.Env.Ledger.Entries())
	rep, err := w.mgr.RotateAll(ctx, "rc", account.BulkOptions{Kind: account.KindPAT, Parallel: 4, Answer: ans})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AllOK() || rep.OK != 5 {
		for _, it := range rep.Items {
			t.Logf("%s: %s %s", it.Ref, it.Status, it.Error)
		}
		t.Fatalf("ok %d failed %d of %d", rep.OK, rep.Failed, len(rep.Items))
	}
	issued := w.sb.Env.Ledger.Entries()[mark:]
	if last := issued[len(issued)-1]; last.ID != rocketchatsim.AlicePATName || w.credentialToken("rc") != last.Token {
		t.Fatalf("the sign-in PAT must be rotated last and become the credential (last rotated: %s)", last.ID)
	}
	if _, err := w.mgr.Tokens(ctx, "rc", account.ListFilter{}); err != nil {
		t.Fatalf("a call after the run: %v", err)
	}
}

// Rotating the Mattermost user access token keyturn signs in with switches
// the credential to the new token before the old one is revoked, whether
// keyturn holds the old one's copy or not.
func TestRotatingTheSignInUserTokenUpdatesTheCredential(t *testing.T) {
	for _, c := range []struct{ held, older bool }{{true, true}, {false, true}, {true, false}, {false, false}} {
		held := c.held
		w := newWorld(t)
		w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.OlderServer = c.older })
		w.mattermostSignedIn()
		ctx := context.Background()
		created, err := w.mgr.Create(ctx, "mm", "keyturn itself", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.mgr.LoginWithToken(ctx, "mm", created.Value, ""); err != nil {
			t.Fatal(err)
		}
		if !held {
			if err := w.mgr.Vault().Delete(ctx, created.Name); err != nil {
				t.Fatal(err)
			}
		}
		ref, _ := account.ParseRef(created.Ref)
		iss, err := w.mgr.Rotate(ctx, "mm", ref, nil)
		if err != nil {
			t.Fatalf("held %v: %v", held, err)
		}
		if got := w.credentialToken("mm"); got != iss.Value {
			t.Fatalf("held %v: the credential is still the revoked token", held)
		}
		toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindUserToken})
		if err != nil {
			t.Fatalf("held %v: a call after rotating the sign-in token: %v", held, err)
		}
		switch {
		case c.older && activeToken(toks, ref.ID):
			t.Fatalf("held %v: the old token is still active", held)
		case !c.older && (iss.Ref != created.Ref || !activeToken(toks, ref.ID)):
			t.Fatalf("held %v: rotated in place, the token keeps its id and stays active (%s)", held, iss.Ref)
		case !c.older && w.mattermostTokenWorks(created.Value):
			t.Fatalf("held %v: the old secret still works", held)
		}
	}
}

// A bulk run of user tokens, one of them the sign-in token, rotates them
// all and stays signed in.
func TestRotateAllUserTokensWithTheSignInOne(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	var cred *account.Issued
	for _, n := range []string{"a", "b", "c"} {
		iss, err := w.mgr.Create(ctx, "mm", n, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		cred = iss
	}
	if _, err := w.mgr.LoginWithToken(ctx, "mm", cred.Value, ""); err != nil {
		t.Fatal(err)
	}
	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindUserToken, Parallel: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AllOK() {
		for _, it := range rep.Items {
			t.Logf("%s: %s %s", it.Ref, it.Status, it.Error)
		}
		t.Fatalf("ok %d failed %d of %d", rep.OK, rep.Failed, len(rep.Items))
	}
	if _, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindUserToken}); err != nil {
		t.Fatalf("a call after the run: %v", err)
	}
}

// Revoking the token keyturn signs in with is refused, with why and what to
// do instead: it would leave keyturn holding a dead credential.
func TestRevokingTheSignInTokenIsRefused(t *testing.T) {
	ctx := context.Background()
	t.Run("rocketchat PAT", func(t *testing.T) {
		w := newWorld(t)
		ans := w.rocketAliceByPAT()
		err := w.mgr.Revoke(ctx, "rc", account.Ref{Kind: account.KindPAT, ID: rocketchatsim.AlicePATName}, ans)
		ref := account.Ref{Kind: account.KindPAT, ID: rocketchatsim.AlicePATName}
		r, _ := account.RemedyFor(err)
		if err == nil || !strings.Contains(err.Error(), "keyturn signs in to rc with") || r != (account.Remedy{Action: account.Rotate, Account: "rc", Ref: ref}) {
			t.Fatalf("revoking the sign-in PAT: %v (remedy %+v), want a refusal with rotate as the way out", err, r)
		}
		if _, err := w.mgr.Tokens(ctx, "rc", account.ListFilter{}); err != nil {
			t.Fatalf("a call after the refused revoke: %v", err)
		}
	})
	t.Run("mattermost user token", func(t *testing.T) {
		w := newWorld(t)
		w.mattermostSignedIn()
		created, err := w.mgr.Create(ctx, "mm", "keyturn itself", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.mgr.LoginWithToken(ctx, "mm", created.Value, ""); err != nil {
			t.Fatal(err)
		}
		ref, _ := account.ParseRef(created.Ref)
		if err := w.mgr.Revoke(ctx, "mm", ref, nil); err == nil || !strings.Contains(err.Error(), "keyturn signs in to mm with") {
			t.Fatalf("revoking the sign-in user token: %v, want a refusal", err)
		}
		toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindUserToken})
		if err != nil {
			t.Fatalf("a call after the refused revoke: %v", err)
		}
		if !activeToken(toks, ref.ID) {
			t.Fatal("the sign-in token was revoked")
		}
		// Any other token still revokes.
		other, err := w.mgr.Create(ctx, "mm", "other", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		oref, _ := account.ParseRef(other.Ref)
		if err := w.mgr.Revoke(ctx, "mm", oref, nil); err != nil {
			t.Fatalf("revoking another token: %v", err)
		}
	})
}

// mattermostTokenWorks asks the sandbox's Mattermost who tok signs in as.
func (w *world) mattermostTokenWorks(tok string) bool {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodGet, w.sb.MattermostURL+"/api/v4/users/me", nil)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
