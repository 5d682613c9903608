package account_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/client"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/keystore/keystoretest"
	"keyturn/sandbox"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

// world is a sandbox, a config file and a store that can be made to fail.
type world struct {
	t     *testing.T
	sb    *sandbox.Sandbox
	store *keystoretest.Failing
	mgr   *account.Manager
	cfg   *config.File
}

func newWorld(t *testing.T) *world {
	t.Helper()
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	// Fails nothing until a test says so.
	store := &keystoretest.Failing{Inner: keystore.NewMemory(), Ops: []string{"none"}}
	w := &world{t: t, sb: sb, store: store, cfg: cf}
	w.mgr = account.New(cf, keystore.NewVault(store, cf), account.Options{Timeout: 5 * time.Second})
	return w
}

func (w *world) add(a config.Account) {
	w.t.Helper()
	if _, err := w.mgr.Add(context.Background(), a); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) issuedTokens(service, kind string) []string {
	var out []string
	for _, e := range w.sb.Env.Ledger.Entries() {
		if e.Service == service && e.Kind == kind {
			out = append(out, e.Token)
		}
	}
	return out
}

func (w *world) stored(name string) string {
	w.t.Helper()
	v, err := w.mgr.Vault().Get(context.Background(), name)
	if err != nil {
		w.t.Fatalf("%s not in the store: %v", name, err)
	}
	return v
}

func asChallenge(t *testing.T, err error) *account.Challenge {
	t.Helper()
	var ch *account.Challenge
	if !errors.As(err, &ch) {
		t.Fatalf("want a challenge, got %v", err)
	}
	return ch
}

func (w *world) mattermostSignedIn() {
	w.t.Helper()
	ctx := context.Background()
	w.add(config.Account{Name: "mm", Service: account.Mattermost, URL: w.sb.MattermostURL, User: mattermostsim.AdminUsername})
	req := account.LoginRequest{Account: "mm", Password: mattermostsim.AdminPassword}
	_, err := w.mgr.Login(ctx, req)
	ch := asChallenge(w.t, err)
	if ch.Method != client.MethodTOTP || ch.Invalid {
		w.t.Fatalf("challenge = %+v", ch)
	}
	req.Answer = &account.Answer{Method: ch.Method, Code: simnet.TOTPCode(mattermostsim.AdminTOTPSecret, time.Now())}
	st, err := w.mgr.Login(ctx, req)
	if err != nil {
		w.t.Fatal(err)
	}
	if !st.SignedIn || st.Via != "session" {
		w.t.Fatalf("status = %+v", st)
	}
}

func TestMattermostLoginWrongCodeThenRight(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "mm0", Service: account.Mattermost, URL: w.sb.MattermostURL, User: mattermostsim.AdminUsername})
	_, err := w.mgr.Login(ctx, account.LoginRequest{Account: "mm0", Password: "wrong"})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("wrong password: %v", err)
	}
	_, err = w.mgr.Login(ctx, account.LoginRequest{Account: "mm0", Password: mattermostsim.AdminPassword, Answer: &account.Answer{Code: "000000"}})
	if ch := asChallenge(t, err); !ch.Invalid {
		t.Fatalf("wrong code: %+v", ch)
	}
	w.mattermostSignedIn()
	got := w.issuedTokens("mattermost", "session")
	if len(got) != 1 || !w.storedCredentialHas(t, "mm", got[0]) {
		t.Fatalf("the session token the server issued must be the stored credential")
	}
	// The index names the token's last characters, not the JSON around it.
	entries, _ := w.mgr.Vault().List(ctx, false)
	for _, e := range entries {
		if e.Name == "mm/credential" && e.Fingerprint != keystore.Fingerprint(got[0]) {
			t.Fatalf("credential fingerprint %q is not the token's", e.Fingerprint)
		}
	}
}

func (w *world) storedCredentialHas(t *testing.T, account, token string) bool {
	return strings.Contains(w.stored(account+"/credential"), token)
}

func TestMattermostRotateCommandStoresFirst(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(toks) == 0 {
		t.Fatalf("commands: %v %d", err, len(toks))
	}
	ref := toks[0].Ref
	iss, err := w.mgr.Rotate(ctx, "mm", ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !iss.Stored || iss.Name != "mm/command/"+ref.ID {
		t.Fatalf("issued = %+v", iss)
	}
	ledger := w.issuedTokens("mattermost", "command")
	if w.stored(iss.Name) != ledger[len(ledger)-1] {
		t.Fatal("the stored token is not the one the server issued")
	}
	// The list now shows it as held.
	toks, _ = w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	for _, tk := range toks {
		if tk.Ref == ref && (!tk.Stored || tk.Fingerprint != iss.Fingerprint) {
			t.Fatalf("listed = %+v", tk)
		}
	}
}

func TestStoreFailureKeepsTheToken(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	toks, _ := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	w.store.Ops = []string{"set"}
	iss, err := w.mgr.Rotate(ctx, "mm", toks[0].Ref, nil)
	var ns *account.NotStoredError
	if !errors.As(err, &ns) {
		t.Fatalf("want NotStoredError, got %v", err)
	}
	ledger := w.issuedTokens("mattermost", "command")
	if iss == nil || iss.Stored || iss.Value != ledger[len(ledger)-1] || ns.Issued.Value != iss.Value {
		t.Fatal("the unsaved token must come back to the caller")
	}
	if strings.Contains(err.Error(), iss.Value) {
		t.Fatal("the error text must not hold the token")
	}
	// Retry once the store works again.
	w.store.Ops = []string{"none"}
	if err := w.mgr.RetryStore(ctx, iss); err != nil || !iss.Stored {
		t.Fatalf("retry: %v", err)
	}
	if w.stored(iss.Name) != iss.Value {
		t.Fatal("retry stored something else")
	}
}

func TestUserTokenRotationRevokesOldOnlyAfterStoreAndVerify(t *testing.T) {
	w := newWorld(t)
	// A server without in-place rotation (before 11.10).
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.OlderServer = true })
	w.mattermostSignedIn()
	ctx := context.Background()
	first, err := w.mgr.Create(ctx, "mm", "ci-bot", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	oldRef, _ := account.ParseRef(first.Ref)

	// A failing store: the new token comes back, the old one stays active.
	w.store.Ops = []string{"set"}
	iss, err := w.mgr.Rotate(ctx, "mm", oldRef, nil)
	var ns *account.NotStoredError
	if !errors.As(err, &ns) || iss.Value == "" {
		t.Fatalf("want NotStoredError with the token, got %v", err)
	}
	w.store.Ops = []string{"none"}
	toks, _ := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindUserToken})
	if !activeToken(toks, oldRef.ID) {
		t.Fatal("the old token must stay active when the new one is not stored")
	}

	iss, err = w.mgr.Rotate(ctx, "mm", oldRef, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !iss.Stored || iss.Ref == first.Ref {
		t.Fatalf("issued = %+v", iss)
	}
	toks, _ = w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindUserToken})
	for _, tk := range toks {
		if tk.ID == oldRef.ID {
			t.Fatal("the old token must be revoked after rotation")
		}
	}
	if _, err := w.mgr.Vault().Get(ctx, first.Name); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("the old token's stored copy must go: %v", err)
	}
}

func activeToken(toks []account.Token, id string) bool {
	for _, tk := range toks {
		if tk.ID == id && tk.Active != nil && *tk.Active {
			return true
		}
	}
	return false
}

func TestDroppedRegenIsUnknownAndNotRetried(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	toks, _ := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindWebhook})
	before := len(w.issuedTokens("mattermost", "webhook"))
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Fault: simnet.DropAfterApply, Times: 1})
	_, err := w.mgr.Rotate(ctx, "mm", toks[0].Ref, nil)
	var uo *account.UnknownOutcomeError
	if !errors.As(err, &uo) {
		t.Fatalf("want UnknownOutcomeError, got %v", err)
	}
	if got := len(w.issuedTokens("mattermost", "webhook")) - before; got != 1 {
		t.Fatalf("the server rotated %d times; keyturn must send the request exactly once", got)
	}
	// How to keep the server's token is data each face renders; the
	// message itself holds no command line.
	if r, _ := account.RemedyFor(err); r != (account.Remedy{Action: account.Fetch, Account: "mm", Ref: toks[0].Ref}) ||
		strings.Contains(uo.Error(), "keyturn token") || !strings.Contains(uo.Error(), "without rotating it again") {
		t.Fatalf("the error must say how to keep the server's token: %v (remedy %+v)", uo, r)
	}
	// Fetch keeps the token the rotation made, without rotating again.
	iss, err := w.mgr.Fetch(ctx, "mm", toks[0].Ref)
	if err != nil || !iss.Stored {
		t.Fatalf("Fetch: %+v %v", iss, err)
	}
	ledger := w.issuedTokens("mattermost", "webhook")
	if len(ledger)-before != 1 || w.stored(iss.Name) != ledger[len(ledger)-1] {
		t.Fatal("Fetch must store the token the lost answer held, and rotate nothing")
	}
}

func TestFetchStoresTheCurrentTokenOfCommandsAndWebhooksOnly(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	cmds, _ := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if len(cmds) == 0 || cmds[0].Stored {
		t.Fatalf("commands: %+v", cmds)
	}
	mark := len(w.sb.Env.Ledger.Entries())
	iss, err := w.mgr.Fetch(ctx, "mm", cmds[0].Ref)
	if err != nil || !iss.Stored || iss.Name != "mm/command/"+cmds[0].Ref.ID {
		t.Fatalf("Fetch: %+v %v", iss, err)
	}
	if len(w.sb.Env.Ledger.Entries()) != mark {
		t.Fatal("Fetch issued a token")
	}
	listed, _ := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if listed[0].Ref != cmds[0].Ref || !listed[0].Stored || listed[0].Fingerprint != iss.Fingerprint {
		t.Fatalf("the list must show the fetched token as held: %+v", listed[0])
	}
	// A user access token is shown only when issued.
	if _, err := w.mgr.Fetch(ctx, "mm", account.Ref{Kind: account.KindUserToken, ID: "x"}); err == nil || !strings.Contains(err.Error(), "cannot fetch") {
		t.Fatalf("user token: %v", err)
	}
	// An unknown webhook is the server's 404, named.
	if _, err := w.mgr.Fetch(ctx, "mm", account.Ref{Kind: account.KindWebhook, ID: "nosuchhook000000000000000a"}); err == nil {
		t.Fatal("an unknown webhook must fail")
	}
	// A store that refuses hands the token back.
	w.store.Ops = []string{"set"}
	hooks, _ := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindWebhook})
	iss, err = w.mgr.Fetch(ctx, "mm", hooks[0].Ref)
	var ns *account.NotStoredError
	if !errors.As(err, &ns) || iss == nil || iss.Value == "" || iss.Stored {
		t.Fatalf("Fetch with a failing store: %+v %v", iss, err)
	}
}

func TestMFASetupRefusesWhenActive(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	if _, err := w.mgr.BeginMFA(ctx, "mm", false, nil); !errors.Is(err, account.ErrMFAActive) {
		t.Fatalf("want ErrMFAActive, got %v", err)
	}
	setup, err := w.mgr.BeginMFA(ctx, "mm", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(setup.URL, "otpauth://totp/") || !strings.Contains(setup.URL, "secret="+setup.Secret) {
		t.Fatalf("url = %q", setup.URL)
	}
	// A code from the new secret activates it. The login used this time
	// step and the server refuses a step twice, so take the next one
	// (inside the server's window).
	code := simnet.TOTPCode(setup.Secret, time.Now().Add(30*time.Second))
	if _, err := w.mgr.ActivateMFA(ctx, "mm", code, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.mgr.ActivateMFA(ctx, "mm", "000000", nil); err == nil {
		t.Fatal("a wrong code must fail")
	}
}

func TestRocketChatPATWithTOTPChallenge(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "alice"})
	req := account.LoginRequest{Account: "rc", Password: rocketchatsim.AlicePassword}
	_, err := w.mgr.Login(ctx, req)
	ch := asChallenge(t, err)
	req.Answer = &account.Answer{Method: ch.Method, Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())}
	if _, err := w.mgr.Login(ctx, req); err != nil {
		t.Fatal(err)
	}
	iss, err := w.mgr.Create(ctx, "rc", "deploy", false, nil)
	if err == nil {
		// The server may remember the passed second factor for this client.
		if !iss.Stored {
			t.Fatal("not stored")
		}
		return
	}
	ch = asChallenge(t, err)
	if ch.Method != client.MethodTOTP {
		t.Fatalf("challenge = %+v", ch)
	}
	if _, err := w.mgr.Create(ctx, "rc", "deploy", false, &account.Answer{Method: ch.Method, Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())}); err != nil {
		t.Fatal(err)
	}
	pats := w.issuedTokens("rocketchat", "pat")
	if w.stored("rc/pat/deploy") != pats[len(pats)-1] {
		t.Fatal("stored PAT is not the issued one")
	}
}

func TestCapillaryOTPThenMFAOTPAndRegenerate(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "cap", Service: account.Capillary, URL: w.sb.CapillaryURL, Brand: capillarysim.SeedBrand,
		DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.BobMobile})
	_, err := w.mgr.Login(ctx, account.LoginRequest{Account: "cap"})
	ch := asChallenge(t, err)
	if ch.Step != "otp" || !ch.CodeSent || !ch.OutOfBand() {
		t.Fatalf("first challenge = %+v", ch)
	}
	// A wrong OTP keeps the challenge open.
	_, err = w.mgr.Login(ctx, account.LoginRequest{Account: "cap", Answer: &account.Answer{Code: "000000"}})
	if ch := asChallenge(t, err); !ch.Invalid || ch.Step != "otp" {
		t.Fatalf("wrong OTP: %+v", ch)
	}
	otp := w.sb.Capillary.LastOTP(capillarysim.BobMobile)
	_, err = w.mgr.Login(ctx, account.LoginRequest{Account: "cap", Answer: &account.Answer{Code: otp}})
	ch = asChallenge(t, err)
	if ch.Step != "mfa-otp" || !ch.CodeSent {
		t.Fatalf("MFA challenge = %+v", ch)
	}
	mfa := w.sb.Capillary.LastMFAOTP(capillarysim.BobMobile)
	st, err := w.mgr.Login(ctx, account.LoginRequest{Account: "cap", Answer: &account.Answer{Code: mfa}})
	if err != nil {
		t.Fatal(err)
	}
	if !st.SignedIn || st.Expires == nil || time.Until(*st.Expires) > 16*time.Minute {
		t.Fatalf("status = %+v", st)
	}
	first := w.stored("cap/session")
	iss, err := w.mgr.Rotate(ctx, "cap", account.Ref{Kind: account.KindSession}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.stored("cap/session"); got == first || got != iss.Value {
		t.Fatal("regenerate must store the new token")
	}
	// The key survives the regenerate (the server answers key:null).
	if _, err := w.mgr.Rotate(ctx, "cap", account.Ref{Kind: account.KindSession}, nil); err != nil {
		t.Fatalf("second regenerate from the same key: %v", err)
	}
}

func TestCapillaryPendingSurvivesANewManager(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "cap", Service: account.Capillary, URL: w.sb.CapillaryURL, Brand: capillarysim.SeedBrand,
		DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.BobMobile})
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "cap"}); err == nil {
		t.Fatal("want a challenge")
	}
	sent := len(w.sb.Capillary.Outbox())
	// A second process: same config and store, new manager.
	again := account.New(w.cfg, keystore.NewVault(w.store, w.cfg), account.Options{})
	pend, err := again.Pending(ctx, "cap")
	if err != nil || pend == nil || pend.Step != "otp" {
		t.Fatalf("pending = %+v, %v", pend, err)
	}
	_, err = again.Login(ctx, account.LoginRequest{Account: "cap", Answer: &account.Answer{Code: w.sb.Capillary.LastOTP(capillarysim.BobMobile)}})
	if ch := asChallenge(t, err); ch.Step != "mfa-otp" {
		t.Fatalf("resume: %+v", ch)
	}
	if got := len(w.sb.Capillary.Outbox()); got != sent+1 {
		t.Fatalf("resuming must not ask for a new first-factor code (outbox %d → %d)", sent, got)
	}
}

func TestAddValidates(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	cases := []config.Account{
		{Name: "bad name", Service: account.Mattermost, URL: "https://x.example", User: "u"},
		{Name: "x", Service: "slack", URL: "https://x.example", User: "u"},
		{Name: "x", Service: account.Mattermost, URL: "http://chat.example.com", User: "u"},
		{Name: "x", Service: account.Mattermost, URL: "chat.example.com", User: "u"},
		{Name: "x", Service: account.Capillary, Region: "mars", Brand: "b", DeviceID: "d", IdentifierType: "MOBILE", Identifier: "1"},
		{Name: "x", Service: account.Capillary, Region: "eu", Brand: "b", DeviceID: "d", IdentifierType: "PHONE", Identifier: "1"},
	}
	for _, a := range cases {
		if _, err := w.mgr.Add(ctx, a); err == nil {
			t.Errorf("%+v: want an error", a)
		}
	}
	a, err := w.mgr.Add(ctx, config.Account{Name: "eu", Service: account.Capillary, Region: "eu", Brand: "b", DeviceID: "d", IdentifierType: "mobile", Identifier: "1"})
	if err != nil || a.URL != "https://eu.api.capillarytech.com" || a.IdentifierType != "MOBILE" {
		t.Fatalf("region preset: %+v %v", a, err)
	}
	if _, err := w.mgr.Add(ctx, a); err == nil {
		t.Fatal("a duplicate name must be refused")
	}
}

func TestRocketChatAnswerWithoutMethodUsesTheServersChoice(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "carol"})
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "rc", Password: rocketchatsim.CarolPassword}); err != nil {
		t.Fatal(err)
	}
	// Carol has no second factor set up: the server falls back to her
	// password, and keyturn must send the password method with it.
	iss, err := w.mgr.Create(ctx, "rc", "ci", false, &account.Answer{Code: rocketchatsim.CarolPassword})
	if err != nil {
		t.Fatal(err)
	}
	if !iss.Stored {
		t.Fatal("not stored")
	}
}

func TestCapillaryLogoutAfterExpiryEndsQuietly(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "cap", Service: account.Capillary, URL: w.sb.CapillaryURL, Brand: capillarysim.SeedBrand,
		DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.AliceMobile})
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "cap", Password: capillarysim.AlicePassword, MFAPassword: capillarysim.AliceMFAPassword}); err != nil {
		t.Fatal(err)
	}
	later := account.New(w.cfg, keystore.NewVault(w.store, w.cfg), account.Options{Now: func() time.Time { return time.Now().Add(time.Hour) }})
	if err := later.Logout(ctx, "cap"); err != nil {
		t.Fatalf("logging out of an expired session: %v", err)
	}
	if st, _ := later.Show(ctx, "cap"); st.SignedIn {
		t.Fatal("still signed in")
	}
}

func TestChallengeWording(t *testing.T) {
	cases := []struct {
		ch   account.Challenge
		want string
	}{
		{account.Challenge{Account: "a", Service: "mattermost", Method: client.MethodTOTP, Invalid: true}, "a: the code from the authenticator app was not accepted"},
		{account.Challenge{Account: "a", Service: "capillary", Step: "otp", Method: client.MethodOTP, CodeSent: true, SentTo: "mobile 1"}, "a: Capillary needs the one-time code (OTP); a code was sent to mobile 1"},
		{account.Challenge{Account: "a", Service: "capillary", Step: "password", Method: client.MethodPassword}, "a: Capillary needs the account password"},
		{account.Challenge{Account: "a", Service: "rocketchat", Method: client.MethodPassword, Invalid: true, Message: "TOTP Invalid"}, "a: the account password (as the second factor) was not accepted (TOTP Invalid)"},
		{account.Challenge{Account: "a", Service: "rocketchat", Method: client.MethodEmail, Locked: true}, "a: too many wrong codes"},
	}
	for _, c := range cases {
		if got := c.ch.Error(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

func TestStrayPendingInTheStoreIsNotResumed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "cap", Service: account.Capillary, URL: w.sb.CapillaryURL, Brand: capillarysim.SeedBrand,
		DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.BobMobile})
	// A pending challenge left in the store by a config that is gone.
	if err := w.store.Set(ctx, "cap/pending", `{"step":"otp","method":"otp","session_id":"P-gone","expires":"2999-01-01T00:00:00Z"}`); err != nil {
		t.Fatal(err)
	}
	_, err := w.mgr.Login(ctx, account.LoginRequest{Account: "cap"})
	if ch := asChallenge(t, err); ch.Step != "otp" || !ch.CodeSent {
		t.Fatalf("a fresh sign-in must start over and send a code: %+v", ch)
	}
}

func TestRetryStoreForCredentialsAndBackupCodes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "mm", Service: account.Mattermost, URL: w.sb.MattermostURL, User: mattermostsim.AdminUsername})
	w.store.Ops = []string{"set"}
	_, err := w.mgr.Login(ctx, account.LoginRequest{Account: "mm", Password: mattermostsim.AdminPassword,
		Answer: &account.Answer{Code: simnet.TOTPCode(mattermostsim.AdminTOTPSecret, time.Now())}})
	var ns *account.NotStoredError
	if !errors.As(err, &ns) || ns.Issued.Kind != account.KindCredential {
		t.Fatalf("want the credential handed back, got %v", err)
	}
	w.store.Ops = []string{"none"}
	if err := w.mgr.RetryStore(ctx, ns.Issued); err != nil {
		t.Fatal(err)
	}
	// The retried credential is usable: the account is signed in.
	if _, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindUserToken}); err != nil {
		t.Fatalf("the retried credential does not work: %v", err)
	}
	w.store.Ops = []string{"set"}
	iss, err := w.mgr.StoreBackupCodes(ctx, "mm", []string{"11111111", "22222222"})
	if !errors.As(err, &ns) {
		t.Fatalf("want NotStoredError, got %v", err)
	}
	w.store.Ops = []string{"none"}
	if err := w.mgr.RetryStore(ctx, iss); err != nil {
		t.Fatal(err)
	}
	if w.stored("mm/backup-codes/totp") != "11111111\n22222222" {
		t.Fatal("backup codes stored wrong")
	}
	// No part of a backup code is a fingerprint: not on screen, not in
	// the config file.
	c, err := w.cfg.Load()
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := c.Secret("mm/backup-codes/totp")
	if iss.Fingerprint != "" || meta.Fingerprint != "" {
		t.Fatalf("backup codes fingerprinted: issued %q, index %q", iss.Fingerprint, meta.Fingerprint)
	}
}

func TestSendEmailCodeForTokenChallenges(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "alice"})
	req := account.LoginRequest{Account: "rc", Password: rocketchatsim.AlicePassword, Answer: &account.Answer{Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())}}
	if _, err := w.mgr.Login(ctx, req); err != nil {
		t.Fatal(err)
	}
	ch, err := w.mgr.SendEmailCode(ctx, "rc")
	if err != nil || !ch.CodeSent || ch.Method != client.MethodEmail {
		t.Fatalf("challenge %+v, %v", ch, err)
	}
	code := w.sb.RocketChat.LastEmailCode("alice")
	if code == "" {
		t.Fatal("no email was sent")
	}
	if _, err := w.mgr.Create(ctx, "rc", "by-email", false, &account.Answer{Method: client.MethodEmail, Code: code}); err != nil {
		t.Fatalf("answering by email: %v", err)
	}
	if regions := account.CapillaryRegions(); len(regions) != 5 || regions[0].URL == "" {
		t.Fatalf("regions = %+v", regions)
	}
}

// refusing fails Set for the names it lists, and passes everything else on.
type refusing struct {
	keystore.Backend
	mu    sync.Mutex
	names map[string]bool
}

func (r *refusing) Set(ctx context.Context, name, value string) error {
	r.mu.Lock()
	refuse := r.names[name]
	r.mu.Unlock()
	if refuse {
		return &keystore.StoreError{Backend: "refusing", Op: "set", Name: name, Cause: "refused on purpose", Err: keystore.ErrUnavailable}
	}
	return r.Backend.Set(ctx, name, value)
}

func (r *refusing) refuse(names ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names = map[string]bool{}
	for _, n := range names {
		r.names[n] = true
	}
}

// A Capillary sign-in whose session the store refuses still keeps the key
// the server sent (it makes every later session); if the key is refused
// too, saving the session again saves the key with it.
func TestCapillaryKeyIsKeptWhenTheSessionIsNotStored(t *testing.T) {
	for _, refused := range [][]string{{"cap/session"}, {"cap/session", "cap/credential"}} {
		t.Run(strings.Join(refused, "+"), func(t *testing.T) {
			sb, err := sandbox.Start(sandbox.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sb.Close() })
			ctx := context.Background()
			cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
			store := &refusing{Backend: keystore.NewMemory()}
			mgr := account.New(cf, keystore.NewVault(store, cf), account.Options{Timeout: 5 * time.Second})
			if _, err := mgr.Add(ctx, config.Account{Name: "cap", Service: account.Capillary, URL: sb.CapillaryURL, Brand: capillarysim.SeedBrand,
				DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.AliceMobile}); err != nil {
				t.Fatal(err)
			}
			store.refuse(refused...)
			_, err = mgr.Login(ctx, account.LoginRequest{Account: "cap", Password: capillarysim.AlicePassword, MFAPassword: capillarysim.AliceMFAPassword})
			var ns *account.NotStoredError
			if !errors.As(err, &ns) || ns.Issued.Kind != account.KindSession || ns.Issued.Value == "" {
				t.Fatalf("want the session handed back, got %v", err)
			}
			store.refuse()
			if len(refused) > 1 {
				if err := mgr.RetryStore(ctx, ns.Issued); err != nil {
					t.Fatalf("save again: %v", err)
				}
			}
			// The key is stored: a new session comes from it without signing in.
			iss, err := mgr.Rotate(ctx, "cap", account.Ref{Kind: account.KindSession}, nil)
			if err != nil {
				t.Fatalf("regenerate from the stored key: %v", err)
			}
			if !iss.Stored {
				t.Fatal("the regenerated session is not stored")
			}
		})
	}
}

// A Mattermost sign-in whose answer names no user, where asking for the
// user then fails, does not drop a live session token: it ends it.
func TestMattermostSessionWithoutUserIsEndedNotDropped(t *testing.T) {
	const token = "session-token-for-nobody-xyz"
	var mu sync.Mutex
	var loggedOut []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v4/users/login":
			w.Header().Set("Token", token)
			_, _ = w.Write([]byte(`{}`))
		case "/api/v4/users/me":
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"id":"app.internal","message":"boom","status_code":500}`))
		case "/api/v4/users/logout":
			mu.Lock()
			loggedOut = append(loggedOut, r.Header.Get("Authorization"))
			mu.Unlock()
			_, _ = w.Write([]byte(`{"status":"OK"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	mgr := account.New(cf, keystore.NewVault(keystore.NewMemory(), cf), account.Options{Timeout: 5 * time.Second})
	if _, err := mgr.Add(ctx, config.Account{Name: "mm", Service: account.Mattermost, URL: srv.URL, User: "alice"}); err != nil {
		t.Fatal(err)
	}
	_, err := mgr.Login(ctx, account.LoginRequest{Account: "mm", Password: "pw"})
	if err == nil {
		t.Fatal("want an error: the sign-in named no user")
	}
	if r, _ := account.RemedyFor(err); strings.Contains(err.Error(), token) || r != (account.Remedy{Action: account.SignIn, Account: "mm"}) {
		t.Fatalf("error: %v, remedy %+v: want sign in to mm again", err, r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(loggedOut) != 1 || !strings.Contains(loggedOut[0], token) {
		t.Fatalf("the session the server opened must be ended, logouts: %q", loggedOut)
	}
}
