package account

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every registered service answers consistently: what its ServiceInfo
// promises is what it implements, and what it lists is its own.
func TestServicesAnswerConsistently(t *testing.T) {
	seenKinds := map[string]string{}
	for _, svc := range All() {
		info := svc.Info()
		t.Run(info.ID, func(t *testing.T) {
			if got, ok := Lookup(info.ID); !ok || got.Info() != info {
				t.Errorf("Lookup(%q) = %v, %v; want the registered service", info.ID, got, ok)
			}
			if info.Name == "" || info.Short == "" || !regexp.MustCompile(`^#[0-9A-F]{6}$`).MatchString(info.Color) {
				t.Errorf("name %q, short %q, colour %q: each must be set (colour #RRGGBB)", info.Name, info.Short, info.Color)
			}
			for _, k := range info.Kinds {
				if other, dup := seenKinds[k.Kind]; dup {
					t.Errorf("kind %q belongs to %s and %s: a REF's kind must name one service", k.Kind, other, info.ID)
				}
				seenKinds[k.Kind] = info.ID
				if k.Title == "" || k.Noun == "" {
					t.Errorf("kind %q has no title or noun", k.Kind)
				}
				if n := slices.Index(info.Page, k.Kind); n < 0 || slices.Index(info.Page[n+1:], k.Kind) >= 0 {
					t.Errorf("kind %q must be on the account page once: %v", k.Kind, info.Page)
				}
			}
			for _, part := range info.Page {
				if _, ok := info.Kind(part); !ok && part != SectionMFA {
					t.Errorf("page section %q is neither a kind of %s nor the MFA row", part, info.ID)
				}
			}
			if got, want := slices.Contains(info.Page, SectionMFA), info.MFA != nil; got != want {
				t.Errorf("MFA row on the page = %v, MFA described = %v", got, want)
			}
			_, isMFA := svc.(mfaService)
			if isMFA != (info.MFA != nil) {
				t.Errorf("implements MFA = %v, but Info().MFA set = %v", isMFA, info.MFA != nil)
			}
			_, isCreator := svc.(creator)
			if isCreator != (info.Creates != "") {
				t.Errorf("implements create = %v, but Info().Creates = %q", isCreator, info.Creates)
			}
			if k, ok := info.CreateKind(); info.Creates != "" && (!ok || k.Label == "" || k.Example == "") {
				t.Errorf("creates %q: must be one of its kinds, with a label and an example", info.Creates)
			}
			_, lists := svc.(teamLister)
			if lists != info.Teams() {
				t.Errorf("implements team lists = %v, but has per-team kinds = %v", lists, info.Teams())
			}
			_, fetches := svc.(fetcher)
			var fetchable bool
			for _, k := range info.Kinds {
				fetchable = fetchable || k.Fetchable
			}
			if fetches != fetchable {
				t.Errorf("implements fetch = %v, but has fetchable kinds = %v", fetches, fetchable)
			}
			_, withToken := svc.(tokenSignIn)
			if withToken != info.SignIn.WithToken {
				t.Errorf("implements token sign-in = %v, but SignIn.WithToken = %v", withToken, info.SignIn.WithToken)
			}
			if info.AutoRegenerate && !info.HasSession() {
				t.Error("auto-regenerates, but has no session kind")
			}
			if !slices.Equal(KindsOf(info.ID), info.KindIDs()) {
				t.Errorf("KindsOf = %v, want %v", KindsOf(info.ID), info.KindIDs())
			}
		})
	}
	var ids []string
	for _, svc := range All() {
		ids = append(ids, svc.Info().ID)
	}
	if !slices.Equal(ids, Services) {
		t.Errorf("Services = %v, All() = %v: one display order", Services, ids)
	}
	if _, ok := Lookup("slack"); ok {
		t.Error("Lookup of an unknown service found one")
	}
	if i := Info("slack"); i.Name != "slack" || i.Short != "?" || i.MFA != nil || len(i.Kinds) != 0 {
		t.Errorf("Info of an unknown service = %+v, want its id as name and no capability", i)
	}
}

// The faces ask account's services what applies; none compares a service
// name. A comparison or case arm over account.Mattermost, RocketChat or
// Capillary in cli/ or tui/ fails here.
func TestFacesDoNotCompareServiceNames(t *testing.T) {
	svc := `account\.(Mattermost|RocketChat|Capillary)\b`
	cmp := regexp.MustCompile(`(==|!=)\s*` + svc + `|` + svc + `\s*(==|!=)|^\s*case\b.*` + svc)
	for _, dir := range []string{"../cli", "../tui"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s: %v", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for n, line := range strings.Split(string(b), "\n") {
				if cmp.MatchString(line) {
					t.Errorf("%s:%d compares a service name: %s", f, n+1, strings.TrimSpace(line))
				}
			}
		}
	}
}
