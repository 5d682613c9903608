package account_test

// FuzzParseRef: the token REF parser (command:<id>, webhook:<id>,
// user-token:<id>, pat:<name>, session) on any text. fuzz/run runs it for a
// few seconds in CI.

import (
	"strings"
	"testing"

	"keyturn/account"
	"keyturn/keystore"
)

// FuzzParseRef: ParseRef never panics; what it accepts has a known kind and
// an id (none for session): a Mattermost id without spaces or slashes of at
// most 128 bytes, a PAT name whose store name is valid; it reads back
// the same from Ref.String(), which is the trimmed input. A rejection is a
// message that names the REF.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"command:w483xexf3j88bc7pupqfqhd7sr", "webhook:7qxtco1cxtgtbb564ommhfd1co", "user-token:a9k5ewds4f84jfoj7tdewecc3w",
		"pat:mypersonaltoken", "session", " session \n", "pat:a:b", "pat:", ":x", "command", "Command:x", "session:x",
		"pat:my token", "pat:" + strings.Repeat("x", 129), "pat:" + strings.Repeat("x", 300), "pat:a/b", "pat:..", "pat:100%", "pat:\u00a0x\u00a0", "pat:../../etc", "user-token:x\x00y", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := account.ParseRef(s)
		if err != nil {
			if msg := err.Error(); !strings.Contains(msg, "REF") || msg == "" {
				t.Fatalf("ParseRef(%q): unclear error %q", s, msg)
			}
			if r != (account.Ref{}) {
				t.Fatalf("ParseRef(%q) failed but returned %+v", s, r)
			}
			return
		}
		switch r.Kind {
		case account.KindSession:
			if r.ID != "" {
				t.Fatalf("ParseRef(%q) = %+v: a session with an id", s, r)
			}
		case account.KindCommand, account.KindWebhook, account.KindUserToken:
			if r.ID == "" || len(r.ID) > 128 || strings.ContainsAny(r.ID, " \t\r\n/") {
				t.Fatalf("ParseRef(%q) = %+v: bad id", s, r)
			}
		case account.KindPAT:
			// Any name the server may hold, if the store can hold it.
			if r.ID == "" || keystore.ValidName(account.SecretName("account", r)) != nil {
				t.Fatalf("ParseRef(%q) = %+v: a PAT name the store cannot hold", s, r)
			}
		default:
			t.Fatalf("ParseRef(%q) = %+v: unknown kind", s, r)
		}
		str := r.String()
		if str != strings.TrimSpace(s) {
			t.Fatalf("ParseRef(%q).String() = %q, want the trimmed input", s, str)
		}
		back, err := account.ParseRef(str)
		if err != nil || back != r {
			t.Fatalf("ParseRef(%q) = %+v, but ParseRef(%q) = %+v, %v", s, r, str, back, err)
		}
	})
}
