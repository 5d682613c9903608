package account_test

import (
	"net/url"
	"strings"
	"testing"

	"keyturn/account"
	"keyturn/keystore"
)

// Every name a server can give a token maps to a valid store name, one
// name per token (reversible), and names that were valid before stay as
// they were, so secrets already stored keep their names.
func TestSecretNameOfAnyServerName(t *testing.T) {
	for id, want := range map[string]string{
		"mypersonaltoken":             "rc/pat/mypersonaltoken",
		"a..b":                        "rc/pat/a..b",
		"v1.2_ci-bot@host:x":          "rc/pat/v1.2_ci-bot@host:x",
		"ci token":                    "rc/pat/ci%20token",
		"déploiement":                 "rc/pat/d%C3%A9ploiement",
		"a/b":                         "rc/pat/a%2Fb",
		"..":                          "rc/pat/%2E%2E",
		".":                           "rc/pat/%2E",
		"100%":                        "rc/pat/100%25",
		"%2E%2E":                      "rc/pat/%252E%252E",
		"bell\x07\x1b[31mred\r\n\x00": "rc/pat/bell%07%1B%5B31mred%0D%0A%00",
		"\xff\xfe":                    "rc/pat/%FF%FE",
		" lead":                       "rc/pat/%20lead",
	} {
		ref := account.Ref{Kind: account.KindPAT, ID: id}
		got := account.SecretName("rc", ref)
		if got != want {
			t.Errorf("SecretName(rc, %q) = %q, want %q", id, got, want)
			continue
		}
		if err := keystore.ValidName(got); err != nil {
			t.Errorf("SecretName(rc, %q) = %q: %v", id, got, err)
		}
		if back, err := url.PathUnescape(strings.TrimPrefix(got, "rc/pat/")); err != nil || back != id {
			t.Errorf("%q does not read back as %q: %q, %v", got, id, back, err)
		}
		if err := account.CheckStorable("rc", ref); err != nil {
			t.Errorf("CheckStorable(rc, %q): %v", id, err)
		}
	}
	// Mattermost ids, Capillary's session: as before.
	for ref, want := range map[account.Ref]string{
		{Kind: account.KindCommand, ID: "w483xexf3j88bc7pupqfqhd7sr"}:   "mm/command/w483xexf3j88bc7pupqfqhd7sr",
		{Kind: account.KindUserToken, ID: "a9k5ewds4f84jfoj7tdewecc3w"}: "mm/user-token/a9k5ewds4f84jfoj7tdewecc3w",
		{Kind: account.KindSession}:                                     "mm/session",
	} {
		if got := account.SecretName("mm", ref); got != want {
			t.Errorf("SecretName(mm, %v) = %q, want %q", ref, got, want)
		}
	}
	// What cannot be stored even escaped is refused, saying why.
	long := account.Ref{Kind: account.KindPAT, ID: strings.Repeat("n", 300)}
	err := account.CheckStorable("rc", long)
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("CheckStorable of a 300-character name: %v", err)
	}
	wide := account.Ref{Kind: account.KindPAT, ID: strings.Repeat("é", 40)} // 80 bytes, 240 escaped
	if err := account.CheckStorable("rc", wide); err == nil {
		t.Error("CheckStorable accepted a name longer than the store allows once escaped")
	}
}

// The CLI's REF takes any PAT name the server may hold; what the store
// could never hold is refused there already.
func TestParseRefTakesServerNames(t *testing.T) {
	for _, s := range []string{"pat:ci token", "pat:déploiement", "pat:a/b", "pat:..", "pat:x\x1by", "pat:100%"} {
		r, err := account.ParseRef(s)
		if err != nil || r.Kind != account.KindPAT || r.ID != strings.TrimPrefix(s, "pat:") {
			t.Errorf("ParseRef(%q) = %+v, %v", s, r, err)
		}
	}
	for _, s := range []string{"pat:" + strings.Repeat("n", 300), "command:a b", "webhook:a/b", "pat:"} {
		if r, err := account.ParseRef(s); err == nil {
			t.Errorf("ParseRef(%q) = %+v, want an error", s, r)
		}
	}
}
