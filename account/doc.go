// Package account holds keyturn's accounts and every operation both faces
// share: signing in, MFA setup, issuing, rotating and revoking tokens. All
// decisions about secrets live here: what to store, in what order, and what
// to tell the person. It knows nothing of terminals.
//
// # Services
//
// Each service keyturn speaks to is one Service, in one file:
// mattermost.go, rocketchat.go, capillary.go. Its ServiceInfo says what
// the faces may offer (names and badge colour, the sign-in form, MFA, its
// token kinds and what each allows, how its challenges are answered); its
// methods make the calls that differ from one service to the next (sign-in
// steps, logout, token lists, create, rotate, revoke, MFA). The Manager's
// exported methods hold the locks and the rules every service shares, and
// call the service. The faces ask Info(id) or Lookup(id) and never compare
// a service's name; TestFacesDoNotCompareServiceNames keeps it so.
//
// # Where to add a service
//
//  1. client/<service>: the typed HTTP client.
//  2. sandbox/<service>: the simulated server, written from the API
//     reference, for the demo and the tests.
//  3. account/<service>.go: the id constant, a ServiceInfo, and a type
//     with the Service methods; add the optional ones it supports
//     (creator, mfaService, tokenSignIn, fetcher, teamLister, emailCoder,
//     prober for doctor)
//     and describe them in its ServiceInfo (TestServicesAnswerConsistently
//     checks that the two agree).
//  4. One line in the registry in services.go; its place there is the
//     display order.
//
// # Where to add a token kind
//
// A Kind constant in types.go (it is part of REFs and secret names, so it
// must be new to every service), and a TokenKind in the service's Kinds
// and Page, saying what it allows (revoke, fetch, bulk rotation, per
// team). The service's tokens, rotate and revoke handle it. ParseRef,
// ParseSecretName and checkHint in types.go and tokens.go, Revoke's
// checks, and signsInWith in credential.go still name the kinds they
// accept: extend them too.
package account
