//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keystore

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestProbeKeyringDeadBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p := ProbeKeyring(ctx)
	if !p.DBus || p.Session == "" || p.Service != "" || p.Locked {
		t.Fatalf("with a dead bus: %+v, want no session", p)
	}
}

// Under an unlocked gnome-keyring (see with-keyring.sh) the probe says the
// session, the service and an unlocked collection.
func TestProbeKeyringUnlocked(t *testing.T) {
	realKeyring(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	p := ProbeKeyring(ctx)
	if !p.DBus || p.Session != "" || p.Service != "" || p.Locked || !p.LockKnown {
		t.Fatalf("with an unlocked keyring: %+v", p)
	}
}
