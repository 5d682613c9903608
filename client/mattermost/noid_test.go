package mattermost_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"keyturn/client"
	"keyturn/client/mattermost"
)

func TestAnswersThatNameNoUserAreRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v4/users/login" {
			w.Header().Set("Token", "session-token-for-nobody")
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := client.New(client.Options{Service: "mattermost", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var be *client.BadResponseError
	if _, err := mattermost.New(c, "t").Me(context.Background()); !errors.As(err, &be) {
		t.Fatalf("Me with no id: %v", err)
	}
	token, me, err := mattermost.New(c, "").Login(context.Background(), "admin", "pw", "")
	if !errors.As(err, &be) || me != nil {
		t.Fatalf("Login with no id: %v", err)
	}
	if token == "" {
		t.Fatal("the session token must still come back so the caller does not lose it")
	}
}
