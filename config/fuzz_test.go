package config

// FuzzConfigLoad: the config file parser on any bytes. fuzz/run runs it for a
// few seconds in CI.

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzConfigLoad: Load never panics. It rejects a file with an error that
// wraps ErrDamaged and names the file; what it accepts, Update rewrites
// (unless a newer keyturn wrote it: then ErrNewer and the file stays as it
// is) without changing what a later Load reads, unknown fields included,
// and a second Update writes the same bytes again.
func FuzzConfigLoad(f *testing.F) {
	for _, s := range []string{
		"",
		"  \n",
		`{}`,
		`null`,
		`[]`,
		`{"version":1,"store":"file","store_file":"/home/a/.local/share/keyturn/secrets.enc","accounts":[{"name":"work-mm","service":"mattermost","url":"https://mm.example.com","user":"alice"},{"name":"cap","service":"capillary","url":"https://eu.api.capillarytech.com","brand":"DocDemo","device_id":"123456785","identifier_type":"MOBILE","identifier":"919999999993","region":"eu","insecure_http":true,"ca_file":"/etc/ca.pem"}],"secrets":[{"name":"work-mm/command/w483xexf3j88bc7pupqfqhd7sr","account":"work-mm","kind":"command","id":"w483xexf3j88bc7pupqfqhd7sr","created":"2026-09-01T12:00:00Z","rotated":"2026-09-02T12:00:00.123456789+02:00","expires":null,"fingerprint":"q5h1"}]}`,
		`{"version":2,"accounts":[],"future":{"x":[1,2,3]}}`,
		`{"version":1,"theme":"dark","plugins":["a"],"accounts":null,"secrets":null}`,
		`{"version":-3}`,
		`{"version":"1"}`,
		`{"version":1,"accounts":[{"name":"a"}],"accounts":[]}`,
		`{"Version":1,"ACCOUNTS":[],"Extra":true}`,
		`{"secrets":[{"name":"x","created":"0001-01-01T00:00:00Z"}]}`,
		`{"secrets":[{"name":"x","created":"9999-12-31T23:59:59-23:59"}]}`,
		`{"secrets":[{"name":"x","created":"yesterday"}]}`,
		`{"version":1,`,
		"{\"version\":1}\n{\"version\":2}",
		"\xef\xbb\xbf{\"version\":1}",
		`{"version":1e400}`,
		`{"a":"\ud800"}`,
		`{"version":1,"secrets":[{"name":"a,b}","label":"x\"}"}],"theme":{"a":[1,{"b":"]"}]}}`,
		`{"version":1,"st\u006fre":"file"}`,
		`{ "version" : 1 , "store" : "x" }`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "keyturn", "config.json")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// The one-pass read may only skip the second pass when every
		// top-level key feeds a known field.
		var top map[string]json.RawMessage
		if json.Unmarshal(data, &top) == nil && onlyKnownFields(data) {
			for k := range top {
				if !isKnownField(k) {
					t.Fatalf("onlyKnownFields passed %q with its unknown field %q", data, k)
				}
			}
		}
		file := Open(path)
		c1, err := file.Load()
		if err != nil {
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Load: %v: want an error wrapping ErrDamaged that names the file", err)
			}
			checkUntouched(t, file, path, data, ErrDamaged)
			return
		}
		if c1.Accounts == nil || c1.Secrets == nil || c1.Version == 0 {
			t.Fatalf("Load gave %+v: nil lists or no version", c1)
		}
		if c1.Version > Version {
			checkUntouched(t, file, path, data, ErrNewer)
			return
		}
		if err := file.Update(func(*Config) error { return nil }); err != nil {
			t.Fatalf("Update of a file that loads: %v", err)
		}
		first, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := file.Load()
		if err != nil {
			t.Fatalf("Load after Update: %v\nfile: %q", err, first)
		}
		c1.Version = Version // Update writes the current version
		e1, err1 := c1.encode()
		e2, err2 := c2.encode()
		if err1 != nil || err2 != nil {
			t.Fatalf("encode: %v, %v", err1, err2)
		}
		if !bytes.Equal(e1, e2) {
			t.Fatalf("Update changed what Load reads:\nbefore %s\nafter  %s", e1, e2)
		}
		// Update writes the index an entry at a time: the same bytes as
		// encoding it whole.
		var streamed bytes.Buffer
		if err := c2.encodeTo(&streamed); err != nil || !bytes.Equal(streamed.Bytes(), e2) {
			t.Fatalf("encodeTo (%v) wrote\n%s\nencode\n%s", err, streamed.Bytes(), e2)
		}
		if err := file.Update(func(*Config) error { return nil }); err != nil {
			t.Fatalf("second Update: %v", err)
		}
		second, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("a second Update wrote different bytes:\n%s\n%s", first, second)
		}
	})
}

// checkUntouched: Update refuses the file with want and leaves it as it was.
func checkUntouched(t *testing.T, file *File, path string, data []byte, want error) {
	t.Helper()
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	called := false
	err = file.Update(func(*Config) error { called = true; return nil })
	if !errors.Is(err, want) || called {
		t.Fatalf("Update: %v (fn called: %v), want an error wrapping %v", err, called, want)
	}
	if want == ErrNewer && !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Update: %q does not say the file is newer", err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) || !after.ModTime().Equal(before.ModTime()) || after.Mode() != before.Mode() {
		t.Fatalf("Update touched a file it refused")
	}
}
