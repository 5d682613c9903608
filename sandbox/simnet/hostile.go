package simnet

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// HostileText is what a hostile server puts in front of every piece of
// text it sends: an OSC 52 clipboard write, a screen clear, a colour, an
// 8-bit CSI asking the terminal to answer, a bidi override, DEL, backspace
// and a carriage return. A terminal that receives it raw is compromised.
const HostileText = "\x1b]52;c;a2V5dHVybi1wd25lZA==\x07\x1b[2J\x1b[31m\u009b6n\u202e\x7f\b\r"

// TaintFields names the text in a server's answers, for Taint.
type TaintFields struct {
	Text   []string // JSON keys of text a person reads, in every answer
	Errors []string // keys tainted in error answers only (status 400 and up): error ids
	// Keep is true for values the protocol needs verbatim (the error ids
	// that ask for a second factor); they stay as they are.
	Keep func(string) bool
}

// Taint is the hostile mode: it rewrites a server's answers so that every
// string under one of f's keys (in JSON, at any depth, alone or in an
// array) and every plain-text or HTML body starts with HostileText. The
// server's state is untouched, so ids, tokens and lookups work as before.
func Taint(h http.Handler, f TaintFields) http.Handler {
	text, errs := map[string]bool{}, map[string]bool{}
	for _, k := range f.Text {
		text[k], errs[k] = true, true
	}
	for _, k := range f.Errors {
		errs[k] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := newRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		ct := rec.Header().Get("Content-Type")
		switch {
		case strings.HasPrefix(ct, "application/json") && rec.Code >= 400:
			body = taintJSON(body, errs, f.Keep)
		case strings.HasPrefix(ct, "application/json"):
			body = taintJSON(body, text, f.Keep)
		case strings.HasPrefix(ct, "text/"):
			body = append([]byte(HostileText), body...)
		}
		copyHeader(w, rec)
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

func taintJSON(body []byte, fields map[string]bool, keep func(string) bool) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return body
	}
	out, err := json.Marshal(taintValue(v, false, fields, keep))
	if err != nil {
		return body
	}
	return out
}

// taintValue rewrites v; text is true when v sits under one of fields.
func taintValue(v any, text bool, fields map[string]bool, keep func(string) bool) any {
	switch x := v.(type) {
	case string:
		if text && (keep == nil || !keep(x)) {
			return HostileText + x
		}
	case []any:
		for i := range x {
			x[i] = taintValue(x[i], text, fields, keep)
		}
	case map[string]any:
		for k := range x {
			x[k] = taintValue(x[k], fields[k], fields, keep)
		}
	}
	return v
}
