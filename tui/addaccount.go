package tui

import (
	"context"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"keyturn/account"
	"keyturn/config"
)

// Fields of the add-account form.
const (
	fService    = "service"
	fName       = "name"
	fURL        = "url"
	fUser       = "user"
	fRegion     = "region"
	fBrand      = "brand"
	fIDType     = "idtype"
	fIdentifier = "identifier"
	fDevice     = "device"
	fMobile     = "mobile"
	fEmail      = "email"
	fMFA        = "mfa"
	fInsecure   = "insecure"
	fSubmit     = "submit"
)

// regionOther is the region choice that takes a URL instead.
const regionOther = "other URL"

var identifierTypes = account.CapillaryIdentifierTypes

type formField struct {
	label   string
	input   textinput.Model
	choices []string
	choice  int
	on      bool
	touched bool
}

// addAccountDialog asks only what the chosen service needs, checks each
// field as it is typed with the same rules account.Add applies, and offers
// Capillary's region presets.
type addAccountDialog struct {
	fields map[string]*formField
	focus  string
	op     int
	err    string
	// regionURL is each Capillary region preset's base URL.
	regionURL map[string]string
	// editing is the account being edited, if any: its name and service
	// are fixed, the rest is filled in from it.
	editing string
}

// newEditAccountDialog is the add-account form over an account's settings,
// to change them in place.
func newEditAccountDialog(m *Model, st account.Status) *addAccountDialog {
	d := newAddAccountDialog(m)
	d.editing = st.Name
	for i, s := range d.fields[fService].choices {
		if s == st.Service {
			d.fields[fService].choice = i
		}
	}
	set := func(f, v string) {
		d.fields[f].input.SetValue(v)
		d.fields[f].touched = v != ""
	}
	set(fName, st.Name)
	set(fURL, st.URL)
	set(fUser, st.User)
	set(fBrand, st.Extra.Brand)
	set(fIdentifier, st.Extra.Identifier)
	set(fDevice, st.Extra.DeviceID)
	set(fMobile, st.Extra.Mobile)
	set(fEmail, st.Extra.Email)
	for i, mode := range d.fields[fMFA].choices {
		if mode == st.Extra.MFA {
			d.fields[fMFA].choice = i
		}
	}
	d.fields[fInsecure].on = st.Insecure
	f := d.fields[fRegion]
	f.choice = len(f.choices) - 1 // other URL
	for i, r := range f.choices {
		if r == st.Extra.Region {
			f.choice = i
		}
	}
	for i, t := range d.fields[fIDType].choices {
		if t == st.Extra.IdentifierType {
			d.fields[fIDType].choice = i
		}
	}
	d.retarget()
	d.fields[fSubmit].label = "Save changes"
	d.focus = d.order()[0]
	if d.isText(d.focus) {
		d.fields[d.focus].input.Focus()
	}
	return d
}

func newAddAccountDialog(m *Model) *addAccountDialog {
	d := &addAccountDialog{fields: map[string]*formField{}}
	text := func(label, placeholder string, limit int) *formField {
		in := textinput.New()
		in.Prompt = "› "
		in.Placeholder = placeholder
		in.CharLimit = limit
		in.SetWidth(38)
		in.SetStyles(m.st.Input)
		return &formField{label: label, input: in}
	}
	d.fields[fService] = &formField{label: "Service", choices: account.Services}
	d.fields[fName] = text("Name", "what keyturn calls it, e.g. work-chat", 64)
	d.fields[fURL] = text("Server URL", "https://chat.example.com", 512)
	d.fields[fUser] = text("Login", "user name or email", 256)
	var regions []string
	d.regionURL = map[string]string{}
	for _, r := range account.CapillaryRegions() {
		regions = append(regions, r.Name)
		d.regionURL[r.Name] = r.URL
	}
	d.fields[fRegion] = &formField{label: "Region", choices: append(regions, regionOther)}
	d.fields[fBrand] = text("Brand", "the brand (org) name", 128)
	d.fields[fIDType] = &formField{label: "Identifier", choices: identifierTypes}
	d.fields[fIdentifier] = text("Value", "with country code: 919999000001", 256)
	d.fields[fDevice] = text("Device ID", "any stable id for this device", 128)
	d.fields[fDevice].input.SetValue("keyturn")
	d.fields[fMobile] = text("Mobile", "the user's mobile, with country code", 32)
	d.fields[fEmail] = text("Email", "or the user's email address", 256)
	d.fields[fMFA] = &formField{label: "MFA step", choices: account.MFAModes}
	d.fields[fInsecure] = &formField{label: "allow plain http to a host that is not this machine"}
	d.fields[fSubmit] = &formField{label: "Add account"}
	d.focus = fService
	return d
}

func (d *addAccountDialog) restyle(m *Model) {
	for _, f := range d.fields {
		f.input.SetStyles(m.st.Input)
	}
}

func (d *addAccountDialog) service() string {
	f := d.fields[fService]
	return f.choices[f.choice]
}

func (d *addAccountDialog) region() string {
	f := d.fields[fRegion]
	return f.choices[f.choice]
}

// order is the fields the chosen service needs, top to bottom; an edit
// leaves out the name and service, which stay.
func (d *addAccountDialog) order() []string {
	if d.editing == "" {
		return d.fieldOrder()
	}
	return d.fieldOrder()[2:] // the name and service stay
}

func (d *addAccountDialog) fieldOrder() []string {
	switch {
	case account.Info(d.service()).SignIn.Identity:
		out := []string{fService, fName, fRegion}
		if d.region() == regionOther {
			out = append(out, fURL, fInsecure)
		}
		out = append(out, fBrand, fIDType, fIdentifier)
		if d.fields[fIDType].choices[d.fields[fIDType].choice] == account.IdentifierUsername {
			out = append(out, fMobile, fEmail) // token/generate needs one with a user name
		}
		return append(out, fDevice, fMFA, fSubmit)
	}
	return []string{fService, fName, fURL, fUser, fInsecure, fSubmit}
}

func (d *addAccountDialog) isText(name string) bool {
	f := d.fields[name]
	return f.choices == nil && name != fInsecure && name != fSubmit
}

func (d *addAccountDialog) capturesText() bool { return d.isText(d.focus) }

func (d *addAccountDialog) move(delta int) tea.Cmd {
	order := d.order()
	i := 0
	for j, n := range order {
		if n == d.focus {
			i = j
		}
	}
	if d.isText(d.focus) {
		d.fields[d.focus].touched = d.fields[d.focus].input.Value() != "" || d.fields[d.focus].touched
		d.fields[d.focus].input.Blur()
	}
	i = (i + delta + len(order)) % len(order)
	d.focus = order[i]
	if d.isText(d.focus) {
		return d.fields[d.focus].input.Focus()
	}
	return nil
}

func (d *addAccountDialog) update(m *Model, msg tea.Msg) []action {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		if d.isText(d.focus) {
			var cmd tea.Cmd
			f := d.fields[d.focus]
			f.input, cmd = f.input.Update(msg)
			f.touched = true
			return acts(runCmd(cmd))
		}
		return nil
	}
	if key.Matches(k, m.keys.Cancel) {
		if m.running(d.op) {
			m.cancelOp(d.op)
			return nil
		}
		return acts(closeDlg(d))
	}
	if m.running(d.op) {
		return nil
	}
	f := d.fields[d.focus]
	switch {
	case key.Matches(k, m.keys.NextField):
		return acts(runCmd(d.move(1)))
	case key.Matches(k, m.keys.PrevField):
		return acts(runCmd(d.move(-1)))
	case f.choices != nil && (key.Matches(k, m.keys.Left) || key.Matches(k, m.keys.Right) || key.Matches(k, m.keys.Toggle)):
		delta := 1
		if key.Matches(k, m.keys.Left) {
			delta = -1
		}
		f.choice = (f.choice + delta + len(f.choices)) % len(f.choices)
		d.retarget()
		return nil
	case d.focus == fInsecure && (key.Matches(k, m.keys.Toggle) || key.Matches(k, m.keys.Left) || key.Matches(k, m.keys.Right)):
		f.on = !f.on
		return nil
	case key.Matches(k, m.keys.Submit):
		if d.focus != fSubmit {
			return acts(runCmd(d.move(1)))
		}
		return acts(runCmd(d.submit(m)))
	}
	if d.isText(d.focus) {
		var cmd tea.Cmd
		f.input, cmd = f.input.Update(k)
		f.touched = true
		d.err = ""
		return acts(runCmd(cmd))
	}
	return nil
}

// retarget follows a change of service: the login field reads "Login"
// or, for Capillary, the identifier value.
func (d *addAccountDialog) retarget() {
	id := d.fields[fIdentifier]
	switch d.fields[fIDType].choices[d.fields[fIDType].choice] {
	case "MOBILE":
		id.input.Placeholder = "with country code: 919999000001"
	case "EMAIL":
		id.input.Placeholder = "e.g. someone@example.com"
	default:
		id.input.Placeholder = "the identifier value"
	}
}

// candidate is the account as typed.
func (d *addAccountDialog) candidate() config.Account {
	v := func(n string) string { return strings.TrimSpace(d.fields[n].input.Value()) }
	a := config.Account{Name: v(fName), Service: d.service(), InsecureHTTP: d.fields[fInsecure].on}
	switch {
	case account.Info(a.Service).SignIn.Identity:
		if r := d.region(); r != regionOther {
			a.Region = r
		} else {
			a.URL = v(fURL)
		}
		a.Brand = v(fBrand)
		a.IdentifierType = d.fields[fIDType].choices[d.fields[fIDType].choice]
		a.Identifier = v(fIdentifier)
		a.DeviceID = v(fDevice)
		a.MFA = d.fields[fMFA].choices[d.fields[fMFA].choice]
		if a.IdentifierType == account.IdentifierUsername {
			a.Mobile, a.Email = v(fMobile), v(fEmail)
		}
	default:
		a.URL = v(fURL)
		a.User = v(fUser)
	}
	return a
}

// fieldError checks one field with account.Normalize, the others set to
// values known to pass, so each message lands under its own field.
func (d *addAccountDialog) fieldError(name string) string {
	c := d.candidate()
	good := config.Account{Name: "x", Service: c.Service, URL: "https://example.com", User: "x"}
	if account.Info(c.Service).SignIn.Identity {
		good = config.Account{Name: "x", Service: c.Service, URL: "https://example.com", Brand: "b", DeviceID: "d", IdentifierType: c.IdentifierType, Identifier: "1", Mobile: "1"}
	}
	switch name {
	case fName:
		good.Name = c.Name
	case fURL:
		good.URL, good.InsecureHTTP = c.URL, c.InsecureHTTP
	case fUser:
		good.User = c.User
	case fBrand:
		good.Brand = c.Brand
	case fIdentifier:
		good.Identifier = c.Identifier
		if msg := identifierProblem(c.IdentifierType, c.Identifier); msg != "" {
			return msg
		}
	case fDevice:
		good.DeviceID = c.DeviceID
	case fMobile:
		good.Mobile, good.Email = c.Mobile, c.Email
		if msg := identifierProblem("MOBILE", c.Mobile); msg != "" {
			return msg
		}
	case fEmail:
		if msg := identifierProblem("EMAIL", c.Email); msg != "" {
			return msg
		}
		return ""
	default:
		return ""
	}
	if _, err := account.Normalize(good); err != nil {
		return err.Error()
	}
	return ""
}

// identifierProblem checks the value against its type, as typed.
func identifierProblem(kind, v string) string {
	if v == "" {
		return ""
	}
	switch kind {
	case "MOBILE":
		for _, r := range strings.TrimPrefix(v, "+") {
			if !unicode.IsDigit(r) {
				return "a mobile number has digits only (with the country code, no spaces)"
			}
		}
	case "EMAIL":
		if i := strings.Index(v, "@"); i <= 0 || i == len(v)-1 || strings.ContainsAny(v, " \t") {
			return "an email address looks like someone@example.com"
		}
	}
	return ""
}

func (d *addAccountDialog) valid() bool {
	for _, n := range d.order() {
		if d.fieldError(n) != "" {
			return false
		}
	}
	return true
}

func (d *addAccountDialog) submit(m *Model) tea.Cmd {
	for _, n := range d.order() {
		if d.isText(n) {
			d.fields[n].touched = true
		}
	}
	if !d.valid() {
		d.err = "Fix the fields marked ✗ first."
		return nil
	}
	a := d.candidate()
	d.err = ""
	if d.editing != "" {
		return d.save(m, a)
	}
	var cmd tea.Cmd
	d.op, cmd = startOp(m, "Adding "+a.Name+"…", func(ctx context.Context) (config.Account, error) {
		return m.mgr.Add(ctx, a)
	}, func(_ config.Account, err error) []action {
		if err != nil {
			d.err = m.errText(err)
			return nil
		}
		m.accounts.want = a.Name
		return acts(closeDlg(d), status("Added "+a.Name+". Press enter to sign in."), runCmd(m.loadAccounts()))
	})
	return cmd
}

// save changes the edited account to a, but its name and service.
func (d *addAccountDialog) save(m *Model, a config.Account) tea.Cmd {
	name := d.editing
	var cmd tea.Cmd
	d.op, cmd = startOp(m, "Saving "+name+"…", func(ctx context.Context) (config.Account, error) {
		return m.mgr.Edit(ctx, name, func(old *config.Account) {
			old.URL, old.User, old.Region, old.InsecureHTTP = a.URL, a.User, a.Region, a.InsecureHTTP
			old.Brand, old.IdentifierType, old.Identifier, old.DeviceID, old.MFA = a.Brand, a.IdentifierType, a.Identifier, a.DeviceID, a.MFA
			if a.IdentifierType == account.IdentifierUsername { // else the form does not show them: they stay
				old.Mobile, old.Email = a.Mobile, a.Email
			}
		})
	}, func(_ config.Account, err error) []action {
		if err != nil {
			d.err = m.errText(err)
			return nil
		}
		return acts(closeDlg(d), status("Saved "+name), reloadScreen())
	})
	return cmd
}

func (d *addAccountDialog) view(m *Model, w, h int) string {
	dw := dialogWidth(72, w)
	inner := dw - 4
	labelW := 12
	var b []string
	for _, n := range d.order() {
		f := d.fields[n]
		focused := n == d.focus
		lst := m.st.Field
		if focused {
			lst = m.st.FieldFocus
		}
		switch {
		case n == fSubmit:
			btn := m.st.Button
			if focused {
				btn = m.st.ButtonOn
			}
			b = append(b, "", pad("", labelW)+btn.Render(f.label))
		case n == fInsecure:
			box := "[ ]"
			if f.on {
				box = "[x]"
			}
			b = append(b, pad("", labelW)+lst.Render(box+" "+f.label))
		case f.choices != nil:
			var cs []string
			for i, c := range f.choices {
				label := c
				if n == fService {
					label = serviceName(c)
				}
				if i == f.choice {
					cs = append(cs, m.st.ChoiceOn.Render(" "+label+" "))
				} else {
					cs = append(cs, m.st.Choice.Render(" "+label+" "))
				}
			}
			b = append(b, lst.Render(pad(f.label, labelW))+strings.Join(cs, " "))
			if n == fRegion && d.region() != regionOther {
				b = append(b, pad("", labelW)+m.st.Faint.Render("→ "+d.regionURL[d.region()]))
			}
		default:
			label := f.label
			if ul := account.Info(d.service()).SignIn.UserLabel; n == fUser && ul != "" {
				label = ul
			}
			b = append(b, lst.Render(pad(label, labelW))+f.input.View())
			if msg := d.fieldError(n); msg != "" && (f.touched || focused && f.input.Value() != "") {
				for _, l := range strings.Split(wrap("✗ "+msg, inner-labelW), "\n") {
					b = append(b, pad("", labelW)+m.st.Error.Render(l))
				}
			}
		}
	}
	if d.err != "" {
		b = append(b, m.st.Error.Render(wrap("✗ "+d.err, inner)))
	}
	title, doing := "Add account", "Adding…"
	if d.editing != "" {
		title, doing = "Edit account · "+d.editing, "Saving…"
		b = append([]string{m.st.badge(d.service()) + " " + m.st.Bold.Render(d.editing) + m.st.Faint.Render("  name and service stay"), ""}, b...)
	}
	if m.running(d.op) {
		b = append(b, spinnerLine(m, doing))
	}
	return frame(m, title, strings.Join(b, "\n"), dw, false)
}

func (d *addAccountDialog) short(k keyMap) []key.Binding {
	bs := []key.Binding{k.NextField, k.PrevField}
	f := d.fields[d.focus]
	if f.choices != nil {
		bs = append(bs, k.Left, k.Right)
	}
	if d.focus == fInsecure {
		bs = append(bs, k.Toggle)
	}
	if d.focus == fSubmit {
		bs = append(bs, k.Submit)
	}
	return append(bs, k.Cancel)
}
