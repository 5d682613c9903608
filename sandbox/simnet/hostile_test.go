package simnet

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTaint(t *testing.T) {
	answers := map[string]struct {
		status int
		ct     string
		body   string
	}{
		"/list":  {200, "application/json", `{"id":"abc","name":"ops","items":[{"id":"x","description":"d","tags":["a","b"]}],"n":12345678901234567890}`},
		"/error": {401, "application/json", `{"id":"api.login.invalid","message":"bad","status_code":401}`},
		"/mfa":   {401, "application/json", `{"id":"needs.mfa","message":"code"}`},
		"/plain": {400, "text/plain", "Unable to process JSON"},
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[r.URL.Path]
		w.Header().Set("Content-Type", a.ct)
		w.Header().Set("Content-Length", "1")
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	})
	srv := httptest.NewServer(Taint(h, TaintFields{Text: []string{"name", "description", "tags", "message"}, Errors: []string{"id"},
		Keep: func(v string) bool { return v == "needs.mfa" }}))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	decode := func(body string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return m
	}
	h0 := HostileText

	code, body := get("/list")
	m := decode(body)
	item := m["items"].([]any)[0].(map[string]any)
	tags := item["tags"].([]any)
	if code != 200 || m["id"] != "abc" || m["name"] != h0+"ops" || item["id"] != "x" || item["description"] != h0+"d" ||
		tags[0] != h0+"a" || tags[1] != h0+"b" || !strings.Contains(body, "12345678901234567890") {
		t.Errorf("list answer: %d %s", code, body)
	}
	code, body = get("/error")
	if m := decode(body); code != 401 || m["id"] != h0+"api.login.invalid" || m["message"] != h0+"bad" {
		t.Errorf("error answer: %d %s", code, body)
	}
	if m := decode(func() string { _, b := get("/mfa"); return b }()); m["id"] != "needs.mfa" || m["message"] != h0+"code" {
		t.Errorf("a kept id changed: %v", m)
	}
	if code, body = get("/plain"); code != 400 || body != h0+"Unable to process JSON" {
		t.Errorf("plain answer: %d %q", code, body)
	}
}
