//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keystore

import (
	"context"
	"errors"
)

// On macOS and Windows the keyring is not reached over D-Bus: nothing to
// check beforehand, and no finer diagnosis than the error itself.
var sessionPreflight func() error

func classify(error) (cause, hint string) { return "", "" }

func diagnoseSecretService(context.Context) string { return "" }

// listKeyring: go-keyring offers no listing of the macOS keychain or the
// Windows Credential Manager, so keyturn cannot tell what they hold.
func listKeyring(string) ([]string, error) { return nil, errors.ErrUnsupported }

func collectionLocked(context.Context) (locked, known bool) { return false, false }
