package account

import "strings"

// PersonalSecret reports whether a secret name is one person's own: the
// credential keyturn signs in with and a sign-in step waiting for a code.
// A store shared with a team (--store pass) keeps these out of what it
// shares: a teammate signing in to an account of the same name must not
// replace them, nor act as them.
func PersonalSecret(name string) bool {
	acct, kind, ok := strings.Cut(name, "/")
	return ok && acct != "" && (kind == KindCredential || kind == KindPending)
}
