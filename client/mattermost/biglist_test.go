package mattermost

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"keyturn/client"
)

// commandList is n slash commands as Mattermost 11 answers GET /commands
// (not paginated), about 480 bytes each.
func commandList(n int) string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"cmd%023d","token":"tok%023d","create_at":1795435641579,"update_at":1795435641697,"delete_at":0,"creator_id":%q,"team_id":%q,"trigger":"trigger%d","method":"P","username":"","icon_url":"","auto_complete":true,"auto_complete_desc":"Runs the deployment for service %d","auto_complete_hint":"[env]","display_name":"Deploy %d","description":"deploys things","url":"https://hooks.example.com/deploy/%d","plugin_id":""}`,
			i, i, adminID, teamID, i, i, i, i)
	}
	b.WriteString("]")
	return b.String()
}

// A big team's custom slash commands come in one answer over 1 MiB: the
// list is read, up to the list cap.
func TestListCommandsOverOneMiB(t *testing.T) {
	body := commandList(2500)
	if len(body) <= client.MaxBodyBytes {
		t.Fatalf("test list is only %d bytes", len(body))
	}
	m := fake(t, sessTok,
		step{method: "GET", path: "/api/v4/commands", query: "team_id=" + teamID + "&custom_only=true", auth: bearer(sessTok), answer: body})
	cs, err := m.ListCommands(bg, teamID)
	if err != nil {
		t.Fatalf("ListCommands over %d bytes: %v", len(body), err)
	}
	if len(cs) != 2500 || cs[2499].ID != fmt.Sprintf("cmd%023d", 2499) || cs[2499].Token != fmt.Sprintf("tok%023d", 2499) || cs[0].Trigger != "trigger0" {
		t.Fatalf("ListCommands: %d commands or fields wrong", len(cs))
	}
}

// bigServer answers every request with 200 and what write writes.
func bigServer(t *testing.T, write func(w http.ResponseWriter)) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		write(w)
	}))
	t.Cleanup(srv.Close)
	core, err := client.New(client.Options{Service: "mattermost", BaseURL: srv.URL, GETRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return New(core, sessTok)
}

// Past the list cap the answer is refused with a clear error; a single
// object keeps the small cap.
func TestListAndObjectCaps(t *testing.T) {
	chunk := commandList(200)[1:] // `{...},...,{...}]`
	chunk = "," + strings.TrimSuffix(chunk, "]")
	huge := bigServer(t, func(w http.ResponseWriter) {
		_, _ = w.Write([]byte(commandList(1)[:len(commandList(1))-1]))
		for n := 0; n < client.MaxListBytes+len(chunk); n += len(chunk) {
			if _, err := w.Write([]byte(chunk)); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte("]"))
	})
	_, err := huge.ListCommands(bg, teamID)
	wantBadResponse("larger than 32 MiB")(t, err)

	obj := bigServer(t, func(w http.ResponseWriter) {
		fmt.Fprintf(w, `{"id":%q,"description":%q}`, cmdID, strings.Repeat("x", client.MaxBodyBytes))
	})
	_, err = obj.GetCommand(bg, cmdID)
	wantBadResponse("larger than 1 MiB")(t, err)
}
