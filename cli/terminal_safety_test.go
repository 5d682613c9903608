package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/sandbox/rocketchatsim"
)

// TestTokenRotateAllNotSavedLinesAreTerminalSafe: a PAT's name is the
// server's text (anyone with the account may have named it); the lines
// that hand out a token the store refused name it, cleaned.
func TestTokenRotateAllNotSavedLinesAreTerminalSafe(t *testing.T) {
	w := newWorld(t)
	w.addRocketChat("rc", "carol")
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), ExitOK, "login carol")
	pw := []string{"--method", "password", "--code", rocketchatsim.CarolPassword}
	w.want(w.run("", append([]string{"token", "create", "rc", "dep\x1b]52;c;cHduZWQ=\aloy"}, pw...)...), ExitOK, "create")
	w.store.Ops = []string{"set"}
	r := w.run("", append([]string{"token", "rotate", "rc", "--all"}, pw...)...)
	w.want(r, ExitNotStored, "rotate --all with a failing store")
	mustContain(t, "stdout", r.out, "NOT SAVED pat:dep")
	tok := w.lastIssued("rocketchat", "pat")
	for stream, s := range map[string]string{"stdout": r.out, "stderr": r.err} {
		if err := terminalSafe(s); err != nil {
			t.Errorf("%s %v:\n%q", stream, err, strings.ReplaceAll(s, tok, "<token>"))
		}
	}
}

// TestBackupCodesWithControlsAreQuotedOnATerminal: Rocket.Chat's backup
// codes are secrets the server makes, shown once; like every secret value
// they reach a terminal quoted when they hold control characters (here a
// proxy in front of the sandbox adds an OSC 52 write to the first one).
func TestBackupCodesWithControlsAreQuotedOnATerminal(t *testing.T) {
	w := newWorld(t)
	srv := rewritingProxy(t, w.sb.RocketChatURL, "users.validateTotp", func(body map[string]any) {
		codes := body["codes"].([]any)
		codes[0] = "\x1b]52;c;cHduZWQ=\a" + codes[0].(string)
	})
	w.want(w.run("", "account", "add", "rc", "--service", "rocketchat", "--url", srv.URL, "--user", "carol"), 0, "account add")
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), 0, "login carol")
	r := w.run(rocketchatsim.CarolPassword+"\n", "mfa", "setup", "rc", "--json", "--2fa-code", "-")
	w.want(r, 0, "setup with the password fallback")
	setup := decodeJSON[account.MFASetup](t, r.out)
	r = w.runIO(IO{In: strings.NewReader(""), OutTerminal: true}, "mfa", "activate", "rc", "--code", totp(setup.Secret, time.Now()))
	w.want(r, 0, "activate")
	mustContain(t, "activate", r.out, "Backup codes", `"\x1b]52;c;cHduZWQ=\a`)
	if err := terminalSafe(r.out); err != nil {
		t.Errorf("stdout %v", err)
	}
}

// TestIssuedTokenFingerprintIsTerminalSafe: the fingerprint is the last
// characters of a token the server made; printed after "saved … (…", it
// reaches the terminal, so control characters in it do not.
func TestIssuedTokenFingerprintIsTerminalSafe(t *testing.T) {
	w := newWorld(t)
	srv := rewritingProxy(t, w.sb.RocketChatURL, "users.generatePersonalAccessToken", func(body map[string]any) {
		body["token"] = body["token"].(string) + "\x1b[2J"
	})
	w.want(w.run("", "account", "add", "rc", "--service", "rocketchat", "--url", srv.URL, "--user", "carol"), 0, "account add")
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), 0, "login carol")
	r := w.runIO(IO{In: strings.NewReader(""), OutTerminal: true}, "token", "create", "rc", "deploy", "--method", "password", "--code", rocketchatsim.CarolPassword)
	w.want(r, 0, "token create")
	mustContain(t, "token create", r.out, "saved rc/pat/deploy")
	if err := terminalSafe(r.out); err != nil {
		t.Errorf("stdout %v", err)
	}
}

// rewritingProxy serves target through a proxy that lets edit change the
// JSON answers of requests whose path ends with suffix.
func rewritingProxy(t *testing.T, target, suffix string, edit func(map[string]any)) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(res *http.Response) error {
		if !strings.HasSuffix(res.Request.URL.Path, suffix) {
			return nil
		}
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			return err
		}
		edit(body)
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		res.Body = io.NopCloser(bytes.NewReader(b))
		res.ContentLength = int64(len(b))
		res.Header.Del("Content-Length")
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv
}
