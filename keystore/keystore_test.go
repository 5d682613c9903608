package keystore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"keyturn/config"
)

func TestValidName(t *testing.T) {
	for _, ok := range []string{"prod/command/abc123", "work-mm/credential", "a", "rc@chat.example.com:3000/pat", "x.y_z-1/2",
		strings.Repeat("a", MaxNameLen)} {
		if err := ValidName(ok); err != nil {
			t.Errorf("ValidName(%q) = %v", ok, err)
		}
	}
	for bad, says := range map[string]string{
		"":                                "empty",
		"/lead":                           "slash",
		"trail/":                          "slash",
		"a//b":                            "empty part",
		"a/../b":                          `".."`,
		"..":                              `".."`,
		"./a":                             `"."`,
		"sp ace":                          "' '",
		"new\nline":                       "'\\n'",
		"quote'":                          "'\\''",
		"ünï":                             "'ü'",
		strings.Repeat("a", MaxNameLen+1): "at most 200",
	} {
		err := ValidName(bad)
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("ValidName(%q) = %v, want an error saying %s", bad, err, says)
		}
	}
}

func TestFingerprint(t *testing.T) {
	for v, want := range map[string]string{
		"mm-token-aaaaaaaaaaaaaaaaWXYZ": "WXYZ",
		"abcdefghijklmnop":              "mnop", // 16: 4 is a quarter at most
		"short":                         "",
		"elevenchars":                   "",
		"abcdefghijkl":                  "", // 12: 4 would be a third of it
		"fifteen-chars-x":               "",
		"ünïcödé-tökén-ÿ€Ωß":            "ÿ€Ωß",
		// A list of backup codes: the tail is 4 of the last code's 8.
		"bk000000\nbk000001\nbk000002\nbk000003": "",
		"bk000000 bk000001 bk000002 bk000003":    "",
		// A long last part on its own line still gets one.
		"id-1\nmm-token-aaaaaaaaaaaaaaaaWXYZ": "WXYZ",
	} {
		if got := Fingerprint(v); got != want {
			t.Errorf("Fingerprint(%d chars) = %q, want %q", len([]rune(v)), got, want)
		}
	}
}

func TestChoose(t *testing.T) {
	remembered := &config.Config{Store: "file"}
	cases := []struct {
		flag, env string
		cfg       *config.Config
		want      string
		errSays   string
	}{
		{"", "", nil, "keyring", ""},
		{"", "", &config.Config{}, "keyring", ""},
		{"", "", remembered, "file", ""},
		{"", "keyring", remembered, "keyring", ""},
		{"file", "keyring", nil, "file", ""},
		{"Keyring", "", nil, "keyring", ""},
		{"memory", "", nil, "memory", ""},
		{"", "memory", nil, "memory", ""},
		{"", "", &config.Config{Store: "memory"}, "", "only for the demo"},
		{"plaintext", "", nil, "", `unknown store "plaintext" from --store`},
		{"", "kwallet", nil, "", "KEYTURN_STORE"},
		{"", "", &config.Config{Store: "vault"}, "", "config file"},
	}
	for _, c := range cases {
		got, err := Choose(c.flag, c.env, c.cfg)
		if c.errSays != "" {
			if err == nil || !strings.Contains(err.Error(), c.errSays) || got != "" {
				t.Errorf("Choose(%q, %q, %+v) = %q, %v; want an error saying %q", c.flag, c.env, c.cfg, got, err, c.errSays)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Choose(%q, %q, %+v) = %q, %v; want %q", c.flag, c.env, c.cfg, got, err, c.want)
		}
	}
}

func TestChooseFileAndDefault(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	def, err := DefaultFilePath()
	if err != nil || filepath.Base(def) != "secrets.enc" || filepath.Base(filepath.Dir(def)) != "keyturn" {
		t.Fatalf("DefaultFilePath = %q, %v", def, err)
	}
	cfg := &config.Config{StoreFile: "/cfg/s.enc"}
	for _, c := range []struct {
		flag, env string
		cfg       *config.Config
		want      string
	}{
		{"/flag.enc", "/env.enc", cfg, "/flag.enc"},
		{"", "/env.enc", cfg, "/env.enc"},
		{"", "", cfg, "/cfg/s.enc"},
		{"", "", nil, def},
	} {
		if got, err := ChooseFile(c.flag, c.env, c.cfg); err != nil || got != c.want {
			t.Errorf("ChooseFile(%q, %q) = %q, %v; want %q", c.flag, c.env, got, err, c.want)
		}
	}
}

func TestOpen(t *testing.T) {
	for _, kind := range []string{"keyring", "memory"} {
		b, err := Open(kind, Options{})
		if err != nil || b.Name() != kind {
			t.Errorf("Open(%q) = %v, %v", kind, b, err)
		}
	}
	if _, err := Open("file", Options{}); err == nil {
		t.Error("Open(file) without a path succeeded")
	}
	if _, err := Open("file", Options{File: "/x"}); err == nil {
		t.Error("Open(file) without a passphrase source succeeded")
	}
	if b, err := Open("file", Options{File: "/x", Passphrase: PassphraseFromEnv}); err != nil || b.Name() != "file" {
		t.Errorf("Open(file) = %v, %v", b, err)
	}
	if _, err := Open("nope", Options{}); err == nil {
		t.Error("Open of an unknown kind succeeded")
	}
}

func TestMemory(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	if err := m.Set(ctx, "a", "v1"); err != nil {
		t.Fatal(err)
	}
	if v, err := m.Get(ctx, "a"); err != nil || v != "v1" {
		t.Fatalf("Get: %v", err)
	}
	if err := m.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	if err := m.Delete(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete twice: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.Set(cctx, "a", "v"); !errors.Is(err, context.Canceled) {
		t.Errorf("Set with a cancelled context: %v", err)
	}
}

func TestStoreErrorMessage(t *testing.T) {
	e := &StoreError{Backend: "keyring", Op: "set", Name: "a/b", Cause: "timed out after 5s", Hint: "unlock your keyring", Other: KindFile, Err: context.DeadlineExceeded}
	want := "keyring store: set a/b: timed out after 5s (context deadline exceeded); unlock your keyring"
	if e.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", e.Error(), want)
	}
	if !errors.Is(e, context.DeadlineExceeded) {
		t.Error("StoreError does not unwrap")
	}
	nf := notFound("file", "get", "a/b")
	if nf.Error() != "file store: get a/b: secret not found in the store" || !errors.Is(nf, ErrNotFound) {
		t.Errorf("not found: %q", nf)
	}
}

// Both faces name a store with these words (the CLI said "the file store"
// where the TUI said "the encrypted secrets file").
func TestDisplayName(t *testing.T) {
	for kind, want := range map[string]string{
		KindKeyring: "the keyring",
		KindFile:    "the encrypted secrets file",
		KindMemory:  "the memory store (gone when keyturn exits)",
		"":          "the store",
		"pass":      "the pass store",
	} {
		if got := DisplayName(kind); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", kind, got, want)
		}
	}
}
