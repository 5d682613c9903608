package rocketchat_test

import (
	"context"
	"errors"
	"testing"

	"keyturn/client"
)

// Rocket.Chat 7.4 and later answer logout with 200 and an empty body
// (RocketChat/Rocket.Chat#35922); any 2xx is success for a call whose
// answer carries nothing keyturn needs.
func TestEmptySuccessBodies(t *testing.T) {
	srv, _ := stub(t,
		exchange{method: "POST", path: "/api/v1/logout", headers: authHeaders(nil), respHdr: map[string]string{"Content-Type": "text/plain"}},
		exchange{method: "POST", path: "/api/v1/logout", headers: authHeaders(nil)},
		exchange{method: "POST", path: "/api/v1/users.removePersonalAccessToken", body: fixtureRegenBody, headers: authHeaders(nil)},
		exchange{method: "POST", path: "/api/v1/users.2fa.sendEmailCode", body: `{"emailOrUsername":"alice"}`, headers: authHeaders(nil), status: 204},
	)
	rc := newClient(t, srv.URL, fixtureCred)
	ctx := context.Background()
	if err := rc.Logout(ctx); err != nil {
		t.Fatalf("logout answered 200 with an empty body (7.4+): %v", err)
	}
	if err := rc.Logout(ctx); err != nil {
		t.Fatalf("logout, empty JSON body: %v", err)
	}
	if err := rc.RemovePAT(ctx, "mypersonaltoken", nil); err != nil {
		t.Fatalf("remove answered with an empty body: %v", err)
	}
	if err := rc.SendEmailCode(ctx, "alice"); err != nil {
		t.Fatalf("send email code answered 204: %v", err)
	}
}

// A call whose answer is needed still fails on an empty body, and an
// error status with an empty body is still an error.
func TestEmptyBodyIsNotATokenNorSuccessOnError(t *testing.T) {
	srv, _ := stub(t,
		exchange{method: "POST", path: "/api/v1/users.generatePersonalAccessToken", body: `{"tokenName":"cli","bypassTwoFactor":false}`, headers: authHeaders(nil)},
		exchange{method: "POST", path: "/api/v1/logout", headers: authHeaders(nil), status: 500},
	)
	rc := newClient(t, srv.URL, fixtureCred)
	var br *client.BadResponseError
	if _, err := rc.GeneratePAT(context.Background(), "cli", false, nil); !errors.As(err, &br) {
		t.Fatalf("generate with an empty answer: %v, want a BadResponseError", err)
	}
	if err := rc.Logout(context.Background()); err == nil {
		t.Fatal("a 500 with an empty body must stay an error")
	}
}
