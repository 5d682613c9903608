package client

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestDecodeRefusesTrailingData(t *testing.T) {
	r := &Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"a":1} <html>`)}
	var v map[string]int
	err := Decode("svc", r, &v)
	var be *BadResponseError
	if !errors.As(err, &be) || !strings.Contains(be.Reason, "not one JSON document") {
		t.Fatalf("err = %v", err)
	}
	r.Body = []byte("{\"a\":1}\n  \n")
	if err := Decode("svc", r, &v); err != nil || v["a"] != 1 {
		t.Fatalf("trailing white space is fine: %v", err)
	}
}
