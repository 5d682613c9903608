//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keystore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/godbus/dbus/v5"
	ss "github.com/zalando/go-keyring/secret_service"
)

const secretsBusName = "org.freedesktop.secrets"

// sessionPreflight reports that there is no D-Bus session to talk to, the way
// godbus would look for one, but without autolaunching a dbus-daemon that
// would outlive keyturn (and would hold no unlocked keyring anyway).
func sessionPreflight() error {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr != "" {
		return nil // "autolaunch:" included: asked for explicitly
	}
	rt := fmt.Sprintf("/run/user/%d", os.Getuid())
	for _, f := range []string{filepath.Join(rt, "bus"), filepath.Join(rt, "dbus-session")} {
		if _, err := os.Stat(f); err == nil {
			return nil
		}
	}
	return errors.New("DBUS_SESSION_BUS_ADDRESS is not set and there is no session bus at " + filepath.Join(rt, "bus"))
}

// classify names the cause of a go-keyring error on the Secret Service, and
// the way out if it differs from the usual one. "" means unknown.
func classify(err error) (cause, hint string) {
	var de dbus.Error
	var pde *dbus.Error
	name := ""
	if errors.As(err, &de) {
		name = de.Name
	} else if errors.As(err, &pde) {
		name = pde.Name
	}
	switch name {
	case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
		"org.freedesktop.DBus.Error.Spawn.ChildExited", "org.freedesktop.DBus.Error.Spawn.Failed":
		return "no Secret Service on the session bus (no keyring daemon such as gnome-keyring or KeePassXC is running)",
			"start and unlock a keyring daemon"
	case "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.Secret.Error.NoSuchObject":
		return "the Secret Service has no default collection to store secrets in",
			"create a default keyring (for example \"login\") in your keyring app"
	case "org.freedesktop.Secret.Error.IsLocked":
		return "the keyring collection is locked", ""
	case "org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout":
		return "the Secret Service did not answer", ""
	case "org.freedesktop.DBus.Error.AccessDenied":
		return "the Secret Service denied access", ""
	case "":
	default:
		return "", ""
	}
	msg := err.Error()
	var ne *net.OpError
	switch {
	case strings.Contains(msg, "failed to unlock correct collection"):
		return "the keyring collection is locked (unlocking it was refused or needs a prompt nobody answered)", ""
	case errors.As(err, &ne), errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED),
		strings.HasPrefix(msg, "dbus: couldn't determine address"), strings.Contains(msg, "dbus-launch"),
		strings.HasPrefix(msg, "dbus: authentication failed"):
		return "no D-Bus session (cannot connect to the session bus)",
			"start a desktop session or `dbus-run-session` with an unlocked keyring daemon"
	}
	return "", ""
}

// diagnoseSecretService asks the session bus, on a private connection, why
// the keyring is not answering: no Secret Service, or a locked collection.
func diagnoseSecretService(ctx context.Context) string {
	if sessionPreflight() != nil {
		return "no D-Bus session"
	}
	out := make(chan string, 1)
	go func() { out <- diagnose(ctx) }()
	select {
	case s := <-out:
		return s
	case <-ctx.Done():
		return ""
	}
}

func diagnose(ctx context.Context) string {
	conn, err := dbus.SessionBusPrivateNoAutoStartup(dbus.WithContext(ctx))
	if err != nil {
		return "no D-Bus session (cannot connect to the session bus)"
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return "no D-Bus session (cannot connect to the session bus)"
	}
	if err := conn.Hello(); err != nil {
		return "no D-Bus session (cannot connect to the session bus)"
	}
	var owned bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, secretsBusName).Store(&owned); err != nil {
		return ""
	}
	if !owned {
		var names []string
		if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err == nil &&
			!slices.Contains(names, secretsBusName) {
			return "no Secret Service on the session bus (no keyring daemon such as gnome-keyring or KeePassXC is running)"
		}
		return ""
	}
	for _, path := range []dbus.ObjectPath{"/org/freedesktop/secrets/collection/login", "/org/freedesktop/secrets/aliases/default"} {
		var v dbus.Variant
		err := conn.Object(secretsBusName, path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
			"org.freedesktop.Secret.Collection", "Locked").Store(&v)
		if err != nil {
			continue
		}
		if locked, ok := v.Value().(bool); ok && locked {
			return "the keyring collection is locked (waiting for an unlock prompt nobody may see)"
		}
		return ""
	}
	return ""
}

// collectionLocked asks the Secret Service whether the collection
// go-keyring writes to (login, else the default alias) is locked; known is
// false when no such collection answers (none yet, or no service).
func collectionLocked(ctx context.Context) (locked, known bool) {
	conn, err := dbus.SessionBusPrivateNoAutoStartup(dbus.WithContext(ctx))
	if err != nil {
		return false, false
	}
	defer conn.Close()
	if conn.Auth(nil) != nil || conn.Hello() != nil {
		return false, false
	}
	for _, path := range []dbus.ObjectPath{"/org/freedesktop/secrets/collection/login", "/org/freedesktop/secrets/aliases/default"} {
		var v dbus.Variant
		err := conn.Object(secretsBusName, path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
			"org.freedesktop.Secret.Collection", "Locked").Store(&v)
		if err != nil {
			continue
		}
		if l, ok := v.Value().(bool); ok {
			return l, true
		}
	}
	return false, false
}

// listKeyring names the secrets stored under service in the collection
// go-keyring writes to (the login collection, else the default alias), by
// the "username" attribute it gives each item. Attributes are readable
// without unlocking; the collection is unlocked the way go-keyring's own
// calls do, so a locked one fails (or times out) the same way.
func listKeyring(service string) ([]string, error) {
	svc, err := ss.NewSecretService()
	if err != nil {
		return nil, err
	}
	coll := svc.GetLoginCollection()
	if err := svc.Unlock(coll.Path()); err != nil {
		return nil, err
	}
	items, err := svc.SearchItems(coll, map[string]string{"service": service})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, item := range items {
		v, err := svc.Object(secretsBusName, item).GetProperty("org.freedesktop.Secret.Item.Attributes")
		if err != nil {
			return nil, err
		}
		if attrs, ok := v.Value().(map[string]string); ok && attrs["service"] == service && attrs["username"] != "" {
			names = append(names, attrs["username"])
		}
	}
	return names, nil
}
