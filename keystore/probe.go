package keystore

import (
	"context"
	"strings"
)

// KeyringProbe is what keyturn can tell of the OS keyring without reading
// or writing a secret (which could wait on an unlock prompt nobody sees).
type KeyringProbe struct {
	// DBus is true where the keyring is reached over D-Bus (Linux, the
	// BSDs); elsewhere the fields below say nothing.
	DBus bool
	// Session is why there is no D-Bus session bus; "" when there is one.
	Session string
	// Service is why no Secret Service answers; "" when one does (or
	// keyturn could not tell).
	Service string
	// Locked is true when the collection keyturn writes to is locked;
	// LockKnown is false when the Secret Service did not say (no
	// collection yet, or it was not running).
	Locked, LockKnown bool
}

// ProbeKeyring asks the session bus about the keyring, bounded by ctx.
func ProbeKeyring(ctx context.Context) KeyringProbe {
	// A func on D-Bus platforms, a nil variable elsewhere: read through a
	// field so that both compile to the same check.
	preflight := (&keyringBackend{preflight: sessionPreflight}).preflight
	if preflight == nil {
		return KeyringProbe{}
	}
	p := KeyringProbe{DBus: true}
	if err := preflight(); err != nil {
		p.Session = err.Error()
		return p
	}
	why := diagnoseSecretService(ctx)
	switch {
	case strings.HasPrefix(why, "no D-Bus session"):
		p.Session = why
	case strings.HasPrefix(why, "no Secret Service"):
		p.Service = why
	case strings.Contains(why, "locked"):
		p.Locked, p.LockKnown = true, true
	default:
		p.Locked, p.LockKnown = collectionLocked(ctx)
	}
	return p
}

// FilePath is the file store's path when the vault is the file store, else "".
func (v *Vault) FilePath() string {
	if f, ok := v.b.(*fileBackend); ok {
		return f.path
	}
	return ""
}
