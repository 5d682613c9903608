package account_test

import (
	"testing"

	"keyturn/account"
)

func TestPersonalSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"mm/credential": true, "mm/pending": true,
		"mm/command/credential": false, "mm/session": false, "mm/pat/credential": false, "credential": false, "/credential": false,
	} {
		if got := account.PersonalSecret(name); got != want {
			t.Errorf("PersonalSecret(%q) = %v, want %v", name, got, want)
		}
	}
}
