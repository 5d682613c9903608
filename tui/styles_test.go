package tui

import (
	"image/color"
	"math"
	"reflect"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	"keyturn/qr"
)

// Backgrounds text must read on: common light and dark terminal themes.
var (
	lightBackgrounds = []string{"#FFFFFF", "#F6F8FA", "#FDF6E3"}
	darkBackgrounds  = []string{"#000000", "#0D1117", "#1E1E1E", "#282C34"}
)

// Every style's text meets WCAG AA (4.5:1) on the backgrounds of its theme,
// or on its own background when it sets one: faint text included.
func TestStylesContrast(t *testing.T) {
	for _, dark := range []bool{true, false} {
		bgs := lightBackgrounds
		if dark {
			bgs = darkBackgrounds
		}
		walkStyles(reflect.ValueOf(newStyles(dark)), "Styles", func(path string, st lipgloss.Style) {
			fg := st.GetForeground()
			if isNoColor(fg) || st.GetReverse() {
				return
			}
			if bg := st.GetBackground(); !isNoColor(bg) {
				if r := contrast(fg, bg); r < 4.5 {
					t.Errorf("dark=%v %s: %.2f:1 on its own background, want ≥ 4.5", dark, path, r)
				}
				return
			}
			for _, b := range bgs {
				if r := contrast(fg, lipgloss.Color(b)); r < 4.5 {
					t.Errorf("dark=%v %s: %.2f:1 on %s, want ≥ 4.5", dark, path, r, b)
				}
			}
		})
	}
}

// walkStyles calls f on every lipgloss.Style reachable from v.
func walkStyles(v reflect.Value, path string, f func(string, lipgloss.Style)) {
	if st, ok := v.Interface().(lipgloss.Style); ok {
		f(path, st)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkStyles(v.Field(i), path+"."+v.Type().Field(i).Name, f)
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkStyles(v.MapIndex(k), path+"["+k.String()+"]", f)
		}
	}
}

func isNoColor(c color.Color) bool {
	_, ok := c.(lipgloss.NoColor)
	return ok || c == nil
}

// contrast is the WCAG 2 contrast ratio of two colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		x := float64(v) / 0xffff
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// Under NO_COLOR a placeholder still reads as one: the same field with the
// placeholder's text typed in draws differently.
func TestPlaceholderDistinctUnderNoColor(t *testing.T) {
	for _, dark := range []bool{true, false} {
		m := fixedModel(t, 80, 24, colorprofile.ASCII)
		m.dark, m.st = dark, newStyles(dark)
		d := newAddAccountDialog(m)
		in := d.fields[fURL].input
		in.Blur()
		empty := noColor(t, in.View())
		in.SetValue(in.Placeholder)
		typed := noColor(t, in.View())
		if empty == typed {
			t.Errorf("dark=%v: placeholder %q draws as if typed under NO_COLOR: %q", dark, in.Placeholder, empty)
		}
	}
}

// noColor is what a NO_COLOR terminal shows of s: its text and
// attributes, without the resets and trailing blanks that show nothing.
func noColor(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	w := &colorprofile.Writer{Forward: &b, Profile: colorprofile.ASCII}
	if _, err := w.WriteString(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(strings.ReplaceAll(b.String(), "\x1b[m", ""), " ")
}

// The QR code's quiet zone (its outer rows and two columns each side)
// draws light in every mode: colours on dark and light, NO_COLOR on dark
// and light, where light is the glyph's foreground or, for NO_COLOR on a
// light terminal, its background.
func TestQRQuietZoneCleanInEveryMode(t *testing.T) {
	lines, err := qr.Render("otpauth://totp/chat.example.com:ann@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=chat.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, profile := range []colorprofile.Profile{colorprofile.TrueColor, colorprofile.ASCII} {
		for _, dark := range []bool{true, false} {
			m := fixedModel(t, 120, 40, profile)
			m.dark, m.st = dark, newStyles(dark)
			d := &mfaDialog{st: account.Status{Name: "work-chat"}, qr: lines}
			block := strings.Split(ansi.Strip(d.qrBlock(m)), "\n")
			light := "█"
			if profile <= colorprofile.ASCII && !dark {
				light = " "
			}
			edge := func(what string, s string) {
				if strings.Trim(s, light) != "" {
					t.Errorf("profile %v dark=%v: the quiet zone's %s is %q, want only %q", profile, dark, what, s, light)
				}
			}
			edge("top row", block[0])
			edge("bottom row", block[len(block)-1])
			for i, l := range block {
				r := []rune(l)
				edge("left edge of row "+itoa(i), string(r[:2]))
				edge("right edge of row "+itoa(i), string(r[len(r)-2:]))
			}
		}
	}
}

// On a 16-colour terminal faint text stays grey (bright black or white),
// not the blue or cyan a bluish grey rounds to.
func TestFaintStaysGreyIn16Colours(t *testing.T) {
	for _, dark := range []bool{true, false} {
		c := colorprofile.ANSI.Convert(newStyles(dark).Faint.GetForeground())
		if c != ansi.BrightBlack && c != ansi.White && c != ansi.BrightWhite && c != ansi.Black {
			t.Errorf("dark=%v: faint is ANSI colour %v in 16 colours, want a grey", dark, c)
		}
	}
}
