package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// full is a config with every field set, down to the pointers, so that
// TestCloneSharesNothing sees each one; everyFieldSet makes a field added
// later fail the test until it is set here (and copied by clone).
func full() *Config {
	t := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	return &Config{
		Version: Version, Store: "file", StoreFile: "/s",
		Accounts: []Account{{
			Name: "mm", Service: "mattermost", URL: "https://x", User: "u", Brand: "b", DeviceID: "d",
			IdentifierType: "EMAIL", Identifier: "i", Region: "r", MFA: "on", Mobile: "m", Email: "e",
			InsecureHTTP: true, CAFile: "/ca", MFAUnconfirmed: &t,
			Server: &ServerFacts{Version: "11.10", UserTokenRotation: "in-place", MaxTokenLifetimeDays: 90, ForgetsSecondFactor: true},
		}},
		Secrets: []SecretMeta{{Name: "mm/command:a", Account: "mm", Kind: "command", ID: "a", Created: t,
			Rotated: &t, Expires: &t, Fingerprint: "ab12", Label: "/deploy"}},
		Policies:  []Policy{{Kind: "command", Account: "mm", MaxAge: "90d"}},
		Consumers: []Consumer{{Secret: "mm/command:a", File: "/f", EnvKey: "K", Command: "c", Verify: "v"}},
		extra:     map[string]json.RawMessage{"future": json.RawMessage(`{"x":1}`)},
	}
}

func everyFieldSet(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			t.Errorf("%s is nil in the fixture: set it, and copy it in clone", path)
			return
		}
		everyFieldSet(t, v.Elem(), path)
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			t.Errorf("%s is empty in the fixture: set it, and copy it in clone", path)
			return
		}
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct {
			everyFieldSet(t, v.Index(0), path+"[0]")
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			return
		}
		for i := range v.NumField() {
			everyFieldSet(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	default:
		if v.IsZero() {
			t.Errorf("%s is zero in the fixture: set it", path)
		}
	}
}

// shared reports the first pointer, slice or map in a that b points into too.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), path+"[i]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			return path
		}
		for _, k := range a.MapKeys() {
			if p := shared(a.MapIndex(k), b.MapIndex(k), path+"["+k.String()+"]"); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	}
	return ""
}

func TestCloneSharesNothing(t *testing.T) {
	c := full()
	everyFieldSet(t, reflect.ValueOf(c), "Config")
	d := c.clone()
	if !reflect.DeepEqual(c, d) {
		t.Fatalf("the clone differs:\n%+v\n%+v", c, d)
	}
	if p := shared(reflect.ValueOf(c), reflect.ValueOf(d), "Config"); p != "" {
		t.Fatalf("the clone shares %s with the original: a caller changing it would change the memo", p)
	}
}

// A config read twice from the same bytes is decoded once, and what one
// caller changes in its copy reaches neither the file nor the next reader.
func TestLoadKeepsNoChangeOfTheCaller(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	f := Open(path)
	if err := f.Update(func(c *Config) error {
		c.Accounts = append(c.Accounts, Account{Name: "mm", Service: "mattermost", URL: "https://mm.example"})
		c.Secrets = append(c.Secrets, SecretMeta{Name: "mm/command:a", Account: "mm", Kind: "command", Label: "/deploy"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The first Load decodes and the second comes from the memo: each
	// caller changes its copy.
	for range 2 {
		c, err := f.Load()
		if err != nil {
			t.Fatal(err)
		}
		c.Accounts[0].URL = "https://evil.example"
		c.Secrets[0].Label = "changed"
		c.Secrets = append(c.Secrets, SecretMeta{Name: "extra"})
	}
	second, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Accounts[0].URL; got != "https://mm.example" {
		t.Fatalf("the second Load sees the first caller's change: URL %q", got)
	}
	if len(second.Secrets) != 1 || second.Secrets[0].Label != "/deploy" {
		t.Fatalf("the second Load sees the first caller's change: %+v", second.Secrets)
	}

	// Another writer (another keyturn, or an editor) changes the file: the
	// next Load reads what is there now.
	other := Open(path)
	if err := other.Update(func(c *Config) error { c.Accounts[0].URL = "https://new.example"; return nil }); err != nil {
		t.Fatal(err)
	}
	third, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := third.Accounts[0].URL; got != "https://new.example" {
		t.Fatalf("Load after another writer: URL %q, want the new one", got)
	}
	// An edit of the same size, within the file system's time resolution:
	// the bytes decide, so it is seen.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte("new.example"), []byte("neu.example"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	fourth, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := fourth.Accounts[0].URL; got != "https://neu.example" {
		t.Fatalf("Load after a same-size edit with the same time: URL %q", got)
	}
}

func TestOnlyKnownFields(t *testing.T) {
	for _, c := range []struct {
		json string
		want bool
	}{
		{`{}`, true},
		{`null`, true},
		{`{"version":1,"accounts":[{"name":"a","x":{"y":[1,2]}}],"secrets":[]}`, true},
		{`{ "version" : 1 ,` + "\n" + `  "store" : "file" }`, true},
		{`{"Version":1,"ACCOUNTS":[]}`, true},
		{`{"version":1,"theme":"dark"}`, false},
		{`{"secrets":[{"name":"a,\"theme\":1"}],"policies":[]}`, true},
		{`{"secrets":[{"name":"}"}],"future":{}}`, false},
		{`{"st\u006fre":"file"}`, false}, // an escaped key goes the slow way
	} {
		if got := onlyKnownFields([]byte(c.json)); got != c.want {
			t.Errorf("onlyKnownFields(%s) = %v, want %v", c.json, got, c.want)
		}
	}
}

// The config is written with its index streamed an entry at a time, byte
// for byte what encoding it whole gives, whatever the entries hold.
func TestEncodeToWritesWhatEncodeDoes(t *testing.T) {
	c := full()
	c.extra = nil
	c.Secrets = append(c.Secrets, SecretMeta{Name: "a<b>&\"c\"\n", Label: "\u2028 é \x01"}, SecretMeta{})
	for _, cfg := range []*Config{c, New(), {Version: 1, Secrets: c.Secrets}} {
		want, err := cfg.encode()
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := cfg.encodeTo(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("encodeTo wrote\n%s\nencode\n%s", got.Bytes(), want)
		}
	}
}
