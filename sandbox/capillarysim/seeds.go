package capillarysim

import "sort"

// The seeded brand, device and users. Alice signs in with a password or an
// OTP and passes MFA with her MFA password or an MFA OTP; Bob has no
// password (OTP first factor, or register one with token/generate) and
// passes MFA with an MFA OTP (or sets an MFA password); Carol has no MFA;
// Dave signs in by user name (with his mobile or email alongside) and has
// no MFA.
const (
	SeedBrand    = "DemoBrand"
	SeedDeviceID = "keyturn-demo-device"
	SeedOrgID    = "100777"
	SeedOrgCode  = "demobrand.ind.solution"

	AliceMobile      = "919999000001"
	AlicePassword    = "Passw0rd!"
	AliceMFAPassword = "2468"
	AliceUID         = "1780001"

	BobMobile = "919999000002"
	BobUID    = "1780002"

	CarolEmail    = "carol@example.com"
	CarolPassword = "Carol#1234"
	CarolUID      = "1780003"

	DaveUsername = "dave"
	DaveMobile   = "919999000004"
	DaveEmail    = "dave@example.com"
	DavePassword = " dave pass " // spaces are part of it
	DaveUID      = "1780004"
)

func (s *Server) seed() {
	b := &brand{name: SeedBrand, orgID: SeedOrgID, orgCode: SeedOrgCode, users: map[string]*user{}}
	for _, u := range []*user{
		{uid: AliceUID, idType: "MOBILE", value: AliceMobile, password: AlicePassword, mfaEnrolled: true, mfaPassword: AliceMFAPassword},
		{uid: BobUID, idType: "MOBILE", value: BobMobile, mfaEnrolled: true},
		{uid: CarolUID, idType: "EMAIL", value: CarolEmail, password: CarolPassword},
		{uid: DaveUID, idType: "USERNAME", value: DaveUsername, mobile: DaveMobile, email: DaveEmail, password: DavePassword},
	} {
		b.users[userKey(u.idType, u.value)] = u
	}
	s.brands[normBrand(b.name)] = b
}

// SeedUser is one seeded person and their current credentials.
type SeedUser struct {
	IdentifierType  string `json:"identifierType"`
	IdentifierValue string `json:"identifierValue"`
	Mobile          string `json:"mobile,omitempty"` // USERNAME users: sent with token/generate
	Email           string `json:"email,omitempty"`
	UID             string `json:"uid"`
	Password        string `json:"password,omitempty"`    // "" : OTP only (or register one)
	MFA             bool   `json:"mfa"`                   // first factor yields MFA_PENDING
	MFAPassword     string `json:"mfaPassword,omitempty"` // "" : MFA OTP only (or set one)
}

// SeedInfo describes the sandbox engine for `keyturn sandbox`.
type SeedInfo struct {
	Brand    string     `json:"brand"`
	DeviceID string     `json:"deviceId"` // any device id works; this one is suggested
	Users    []SeedUser `json:"users"`
	OTPs     string     `json:"otps"`
}

// Seeds lists the brand and users with their current passwords.
func (s *Server) Seeds() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := SeedInfo{Brand: SeedBrand, DeviceID: SeedDeviceID,
		OTPs: "OTPs (6 digits) are not sent anywhere: they appear in the sandbox's codes list"}
	b := s.brands[normBrand(SeedBrand)]
	for _, u := range b.users {
		info.Users = append(info.Users, SeedUser{IdentifierType: u.idType, IdentifierValue: u.value, Mobile: u.mobile, Email: u.email, UID: u.uid,
			Password: u.password, MFA: u.mfaEnrolled, MFAPassword: u.mfaPassword})
	}
	sort.Slice(info.Users, func(i, j int) bool { return info.Users[i].UID < info.Users[j].UID })
	return info
}
