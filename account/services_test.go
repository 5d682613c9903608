package account_test

import (
	"slices"
	"testing"

	"keyturn/account"
)

// What each face offers per service, as the services describe it: the
// table keyturn showed before the descriptor existed, kept as the proof
// that moving it into account changed nothing.
func TestWhatTheFacesOffer(t *testing.T) {
	type offer struct {
		name, short        string
		mfa, mfaReplace    bool
		disableNeedsCode   bool
		creates            string
		rotateAll, autoGen bool
		withToken, userID  bool
		identity, pwOpt    bool
		letters, bulkAns   bool
		revocable, fetch   []string
		page               []string
	}
	want := map[string]offer{
		account.Mattermost: {name: "Mattermost", short: "MM", mfa: true, mfaReplace: true, creates: account.KindUserToken,
			rotateAll: true, withToken: true, revocable: []string{account.KindUserToken},
			fetch: []string{account.KindCommand, account.KindWebhook},
			page:  []string{account.SectionMFA, account.KindUserToken, account.KindCommand, account.KindWebhook}},
		account.RocketChat: {name: "Rocket.Chat", short: "RC", mfa: true, disableNeedsCode: true, creates: account.KindPAT,
			rotateAll: true, withToken: true, userID: true, letters: true, bulkAns: true, revocable: []string{account.KindPAT},
			page: []string{account.KindPAT, account.SectionMFA}},
		account.Capillary: {name: "Capillary", short: "CAP", autoGen: true, identity: true, pwOpt: true,
			revocable: []string{account.KindSession}, page: []string{account.KindSession}},
	}
	if !slices.Equal(account.Services, []string{account.Mattermost, account.RocketChat, account.Capillary}) {
		t.Errorf("display order = %v", account.Services)
	}
	for _, id := range account.Services {
		i := account.Info(id)
		got := offer{name: i.Name, short: i.Short, mfa: i.MFA != nil, creates: i.Creates,
			rotateAll: i.RotateAll(), autoGen: i.AutoRegenerate, withToken: i.SignIn.WithToken, userID: i.SignIn.TokenNeedsUserID,
			identity: i.SignIn.Identity, pwOpt: i.SignIn.PasswordOptional, letters: i.Challenge.LettersInTOTP,
			bulkAns: i.Challenge.BulkAnswer, page: i.Page}
		if i.MFA != nil {
			got.mfaReplace, got.disableNeedsCode = i.MFA.Replaceable, i.MFA.DisableNeedsCode
		}
		for _, k := range i.Kinds {
			if k.Revocable {
				got.revocable = append(got.revocable, k.Kind)
			}
			if k.Fetchable {
				got.fetch = append(got.fetch, k.Kind)
			}
		}
		w := want[id]
		if got.name != w.name || got.short != w.short || got.mfa != w.mfa || got.mfaReplace != w.mfaReplace ||
			got.disableNeedsCode != w.disableNeedsCode || got.creates != w.creates || got.rotateAll != w.rotateAll ||
			got.autoGen != w.autoGen || got.withToken != w.withToken || got.userID != w.userID || got.identity != w.identity ||
			got.pwOpt != w.pwOpt || got.letters != w.letters || got.bulkAns != w.bulkAns ||
			!slices.Equal(got.revocable, w.revocable) || !slices.Equal(got.fetch, w.fetch) || !slices.Equal(got.page, w.page) {
			t.Errorf("%s offers\n %+v\nwant\n %+v", id, got, w)
		}
		if account.ServiceName(id) != w.name {
			t.Errorf("ServiceName(%q) = %q, want %q", id, account.ServiceName(id), w.name)
		}
	}
}
