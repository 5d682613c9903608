package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

func TestLeakNamesASlashCommandTokenAndRotatesIt(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	cmds, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(cmds) == 0 {
		t.Fatal(cmds, err)
	}
	// The integration's token, as it leaked: keyturn holds no copy yet.
	leaked := w.sb.Mattermost.CommandToken(cmds[0].Ref.ID)
	rep, err := w.mgr.Leak(ctx, leaked+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Matches) != 1 {
		t.Fatalf("matches: %+v", rep.Matches)
	}
	lm := rep.Matches[0]
	if lm.Account != "mm" || lm.Ref != cmds[0].RefString || !lm.Exact || !lm.Rotate || lm.Label != cmds[0].Label || lm.Secret != "" ||
		!strings.Contains(strings.Join(lm.How, ";"), "the token the server shows") {
		t.Fatalf("match: %+v", lm)
	}
	noToken(t, rep, leaked)

	// A consumer of the secret gets the new token once it is stored: the
	// rotation delivers. (The secret is held first, so that it can have one.)
	if _, err := w.mgr.Fetch(ctx, "mm", cmds[0].Ref); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "tok")
	if _, err := w.mgr.AddConsumer(ctx, config.Consumer{Secret: "mm/command/" + cmds[0].Ref.ID, File: out}); err != nil {
		t.Fatal(err)
	}
	rep, _ = w.mgr.Leak(ctx, leaked)
	if len(rep.Matches) != 1 || len(rep.Matches[0].How) != 2 {
		t.Fatalf("the stored copy and the server's token are one match: %+v", rep.Matches)
	}
	iss, err := w.mgr.RotateLeaked(ctx, rep.Matches[0], nil)
	if err != nil || !iss.Stored {
		t.Fatalf("RotateLeaked: %+v %v", iss, err)
	}
	if now := w.sb.Mattermost.CommandToken(cmds[0].Ref.ID); now == leaked || now != w.stored(iss.Name) {
		t.Fatal("the leaked token was not replaced by the stored one")
	}
	if data, _ := os.ReadFile(out); string(data) != w.stored(iss.Name) || len(iss.Deliveries) != 1 {
		t.Fatalf("the rotation did not deliver: %+v", iss.Deliveries)
	}

	// The old token now matches nothing, and the report says where it looked.
	rep, err = w.mgr.Leak(ctx, leaked)
	if err != nil || len(rep.Matches) != 0 {
		t.Fatalf("after rotation: %+v %v", rep, err)
	}
	looked := strings.Join(rep.Looked, "\n")
	for _, want := range []string{" store: ", "mm (mattermost): ", "command (tokens compared)", "user-token (the server shows no value"} {
		if !strings.Contains(looked, want) {
			t.Errorf("looked: %q lacks %q", looked, want)
		}
	}
}

func TestLeakFindsTheCredentialAndRocketChatPATsByLastPart(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "alice"})
	req := account.LoginRequest{Account: "rc", Password: rocketchatsim.AlicePassword}
	_, err := w.mgr.Login(ctx, req)
	ch := asChallenge(t, err)
	req.Answer = &account.Answer{Method: ch.Method, Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())}
	if _, err := w.mgr.Login(ctx, req); err != nil {
		t.Fatal(err)
	}

	// keyturn's own Mattermost session: named, with what to do, not rotated.
	var cred struct{ Token string }
	json.Unmarshal([]byte(w.stored("mm/credential")), &cred)
	rep, err := w.mgr.Leak(ctx, cred.Token)
	if err != nil || len(rep.Matches) != 1 || !rep.Matches[0].Credential || rep.Matches[0].Rotate ||
		!strings.Contains(rep.Matches[0].Advice, "keyturn logout mm") {
		t.Fatalf("credential: %+v %v", rep, err)
	}
	if _, err := w.mgr.RotateLeaked(ctx, rep.Matches[0], nil); err == nil {
		t.Fatal("the credential match must not be rotated by RotateLeaked")
	}

	// alice's seeded PAT, which keyturn does not hold: Rocket.Chat shows
	// only its last part.
	rep, err = w.mgr.Leak(ctx, rocketchatsim.AlicePAT)
	if err != nil || len(rep.Matches) != 1 {
		t.Fatalf("PAT: %+v %v", rep, err)
	}
	lm := rep.Matches[0]
	if lm.Account != "rc" || lm.Ref != "pat:"+rocketchatsim.AlicePATName || lm.Exact || !lm.Rotate || !strings.Contains(lm.How[0], "last token part") {
		t.Fatalf("PAT match: %+v", lm)
	}
	noToken(t, rep, rocketchatsim.AlicePAT)

	// Empty input is bad input.
	var ie *account.InputError
	if _, err := w.mgr.Leak(ctx, " \n"); !errors.As(err, &ie) {
		t.Fatalf("empty token: %v", err)
	}
}

// noToken fails when the report holds the token anywhere.
func noToken(t *testing.T, rep *account.LeakReport, tok string) {
	t.Helper()
	b, _ := json.Marshal(rep)
	if strings.Contains(string(b), tok) || strings.Contains(string(b), tok[len(tok)-8:]) {
		t.Fatal("the leak report shows the token")
	}
}
