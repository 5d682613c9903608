package account_test

import (
	"context"
	"testing"

	"keyturn/account"
	"keyturn/client"
	"keyturn/config"
	"keyturn/sandbox/rocketchatsim"
)

// bob signs in to Rocket.Chat with an e-mail code and makes three PATs
// while the server still remembers the passed factor.
func (w *world) rocketBobWithPATs(names ...string) {
	w.t.Helper()
	ctx := context.Background()
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "bob"})
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "rc", Password: rocketchatsim.BobPassword}); err == nil {
		w.t.Fatal("bob signs in with an e-mail code")
	}
	code := w.sb.RocketChat.LastEmailCode("bob")
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "rc", Password: rocketchatsim.BobPassword, Answer: &account.Answer{Method: client.MethodEmail, Code: code}}); err != nil {
		w.t.Fatal(err)
	}
	var ans *account.Answer
	for _, n := range names {
		_, err := w.mgr.Create(ctx, "rc", n, false, ans)
		if ch, ok := err.(*account.Challenge); ok && ans == nil {
			ans = &account.Answer{Method: ch.Method, Code: w.sb.RocketChat.LastEmailCode("bob")}
			_, err = w.mgr.Create(ctx, "rc", n, false, ans)
		}
		if err != nil {
			w.t.Fatalf("create %s: %v", n, err)
		}
	}
}

// A server that remembers no passed second factor: the run finds it out
// on its second request, stops, and each further run with the e-mail code
// just sent rotates one more token, mailing one code for the next.
func TestRotateAllWithACodePerToken(t *testing.T) {
	w := newWorld(t)
	w.rocketBobWithPATs("a", "b", "c")
	w.sb.RocketChat.SetForgetsSecondFactor(true)
	ctx := context.Background()
	opts := account.BulkOptions{Kind: account.KindPAT, Parallel: 4}
	// The person asks for a code for the run's first token.
	if _, err := w.mgr.SendEmailCode(ctx, "rc"); err != nil {
		t.Fatal(err)
	}
	opts.Answer = &account.Answer{Method: client.MethodEmail, Code: w.sb.RocketChat.LastEmailCode("bob")}
	mails := len(w.sb.RocketChat.Outbox())
	rep, err := w.mgr.RotateAll(ctx, "rc", opts)
	if err != nil {
		t.Fatal(err)
	}
	ch, left := rep.NextCode()
	if !rep.CodePerToken || rep.OK != 1 || left != 2 || ch == nil || !ch.CodeSent {
		t.Fatalf("first run: ok %d, code per token %v, left %d, challenge %+v", rep.OK, rep.CodePerToken, left, ch)
	}
	if n := len(w.sb.RocketChat.Outbox()) - mails; n != 1 {
		t.Fatalf("the run mailed %d codes, want 1 (for the next token)", n)
	}
	c, _ := w.cfg.Load()
	if a, _ := c.Account("rc"); a.Server == nil || !a.Server.ForgetsSecondFactor {
		t.Fatal("the account does not remember that the server forgets")
	}
	for want := 1; want >= 0; want-- {
		opts.Resume = true
		opts.Answer = &account.Answer{Method: ch.Method, Code: w.sb.RocketChat.LastEmailCode("bob")}
		rep, err = w.mgr.RotateAll(ctx, "rc", opts)
		if err != nil {
			t.Fatal(err)
		}
		ch, left = rep.NextCode()
		if left != want {
			t.Fatalf("after a code: %d left, want %d", left, want)
		}
	}
	if !rep.AllOK() || rep.OK+rep.Skipped != 3 {
		t.Fatalf("ok %d skipped %d failed %d", rep.OK, rep.Skipped, rep.Failed)
	}
}

// A server that remembers: one code covers the run, and the account says so.
func TestRotateAllOneCodeWhenRemembered(t *testing.T) {
	w := newWorld(t)
	w.rocketBobWithPATs("a", "b", "c")
	ctx := context.Background()
	if _, err := w.mgr.SendEmailCode(ctx, "rc"); err != nil {
		t.Fatal(err)
	}
	rep, err := w.mgr.RotateAll(ctx, "rc", account.BulkOptions{Kind: account.KindPAT, Parallel: 4,
		Answer: &account.Answer{Method: client.MethodEmail, Code: w.sb.RocketChat.LastEmailCode("bob")}})
	if err != nil || !rep.AllOK() || rep.OK != 3 || rep.CodePerToken {
		t.Fatalf("ok %d failed %d per token %v: %v", rep.OK, rep.Failed, rep.CodePerToken, err)
	}
}
