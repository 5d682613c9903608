package rocketchat_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"keyturn/client"
)

// A user's token list over 1 MiB is read (it is not paginated), and a
// 200 that says it failed is still the server's error.
func TestListPATsOverOneMiB(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"tokens":[`)
	for i := 0; i < 12000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":"token number %05d","createdAt":"2018-08-01T17:17:48.068Z","lastTokenPart":"R8Agh3","bypassTwoFactor":false}`, i)
	}
	b.WriteString(`],"success":true}`)
	if b.Len() <= client.MaxBodyBytes {
		t.Fatalf("test list is only %d bytes", b.Len())
	}
	srv, _ := stub(t,
		exchange{method: "GET", path: "/api/v1/users.getPersonalAccessTokens", headers: authHeaders(nil), resp: b.String()},
		exchange{method: "GET", path: "/api/v1/users.getPersonalAccessTokens", headers: authHeaders(nil),
			resp: `{"success":false,"error":"Not allowed [error-not-allowed]"}`},
	)
	rc := newClient(t, srv.URL, fixtureCred)
	pats, err := rc.ListPATs(context.Background())
	if err != nil {
		t.Fatalf("ListPATs over %d bytes: %v", b.Len(), err)
	}
	if len(pats) != 12000 || pats[11999].Name != "token number 11999" {
		t.Fatalf("ListPATs: %d tokens or names wrong", len(pats))
	}
	_, err = rc.ListPATs(context.Background())
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != "error-not-allowed" || ae.Message != "Not allowed" {
		t.Fatalf("a 200 with success:false: %v (%T)", err, err)
	}
}
