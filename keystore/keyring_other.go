//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keystore

import "context"

// On macOS and Windows the keyring is not reached over D-Bus: nothing to
// check beforehand, and no finer diagnosis than the error itself.
var sessionPreflight func() error

func classify(error) (cause, hint string) { return "", "" }

func diagnoseSecretService(context.Context) string { return "" }
