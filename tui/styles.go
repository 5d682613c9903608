package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"keyturn/account"
)

// Styles is every style the app draws with. They are built for the
// terminal's background (light or dark); Bubble Tea downsamples the colours
// to the terminal's profile, and drops them for NO_COLOR, so nothing here
// relies on colour alone: states are spelled out in words too.
type Styles struct {
	dark bool

	App      lipgloss.Style
	Title    lipgloss.Style // "keyturn" in the header
	Crumb    lipgloss.Style // where the person is
	Header   lipgloss.Style
	Subtle   lipgloss.Style
	Faint    lipgloss.Style
	Bold     lipgloss.Style
	Accent   lipgloss.Style
	Section  lipgloss.Style // section headings on the account screen
	Selected lipgloss.Style // the row under the cursor
	Cursor   lipgloss.Style // the "›" in front of it

	OK      lipgloss.Style // green: signed in, saved
	Warn    lipgloss.Style // amber: expiring soon, pending
	Error   lipgloss.Style // red: failures, NOT saved
	ErrorBG lipgloss.Style // red block for the NOT saved headline

	Badge map[string]lipgloss.Style

	Dialog      lipgloss.Style
	DialogError lipgloss.Style
	DialogTitle lipgloss.Style
	Banner      lipgloss.Style
	BannerTitle lipgloss.Style

	Field      lipgloss.Style // a form label
	FieldFocus lipgloss.Style
	Choice     lipgloss.Style // an option in a selector
	ChoiceOn   lipgloss.Style // the chosen one
	Button     lipgloss.Style
	ButtonOn   lipgloss.Style

	Footer lipgloss.Style
	Demo   lipgloss.Style

	// The bulk rotation's progress bar: filled and empty cells.
	BarFull  color.Color
	BarEmpty color.Color

	// QR pins bright white on black: the half blocks then draw dark modules
	// on a light field whatever the terminal's theme.
	QR lipgloss.Style

	Help  help.Styles
	Input textinput.Styles
}

// newStyles builds the styles for a dark or light background.
func newStyles(dark bool) Styles {
	ld := lipgloss.LightDark(dark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }

	fg := c("#1F2328", "#E6EDF3")
	subtle := c("#57606A", "#9DA7B3")
	// faint still reads at 4.5:1 on common light and dark themes
	// (TestStylesContrast); the hierarchy is fg > subtle > faint. Neutral
	// greys: a 16-colour terminal gets bright black or white for them, not
	// the blue a bluish grey rounds to.
	faint := c("#6B6B6B", "#949494")
	accent := c("#6639BA", "#B392F0")
	green := c("#1A7F37", "#3FB950")
	amber := c("#9A6700", "#D29922")
	red := c("#CF222E", "#FF7B72")
	redBG := c("#CF222E", "#B62324") // under white text
	selBG := c("#DDF4FF", "#1F3A5F")

	s := Styles{dark: dark}
	s.App = lipgloss.NewStyle().Foreground(fg)
	s.Title = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFFFFF")).Background(c("#6639BA", "#6E40C9")).Padding(0, 1)
	s.Crumb = lipgloss.NewStyle().Bold(true).Foreground(fg)
	s.Header = lipgloss.NewStyle().Foreground(subtle)
	s.Subtle = lipgloss.NewStyle().Foreground(subtle)
	s.Faint = lipgloss.NewStyle().Foreground(faint)
	s.Bold = lipgloss.NewStyle().Bold(true)
	s.Accent = lipgloss.NewStyle().Foreground(accent)
	s.Section = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.Selected = lipgloss.NewStyle().Background(selBG).Bold(true)
	s.Cursor = lipgloss.NewStyle().Foreground(accent).Bold(true)

	s.OK = lipgloss.NewStyle().Foreground(green)
	s.Warn = lipgloss.NewStyle().Foreground(amber)
	s.Error = lipgloss.NewStyle().Foreground(red).Bold(true)
	s.ErrorBG = lipgloss.NewStyle().Foreground(lipgloss.Color("#FFFFFF")).Background(redBG).Bold(true).Padding(0, 1)

	badge := func(bg string) lipgloss.Style {
		return lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFFFFF")).Background(lipgloss.Color(bg)).Width(5).Align(lipgloss.Center)
	}
	s.Badge = map[string]lipgloss.Style{}
	for _, svc := range account.All() {
		s.Badge[svc.Info().ID] = badge(svc.Info().Color)
	}

	s.Dialog = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1)
	s.DialogError = s.Dialog.BorderForeground(red)
	s.DialogTitle = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.Banner = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(red).Padding(0, 1)
	s.BannerTitle = lipgloss.NewStyle().Bold(true).Foreground(red)

	s.Field = lipgloss.NewStyle().Foreground(subtle)
	s.FieldFocus = lipgloss.NewStyle().Foreground(accent).Bold(true)
	s.Choice = lipgloss.NewStyle().Foreground(subtle)
	s.ChoiceOn = lipgloss.NewStyle().Bold(true).Reverse(true)
	s.Button = lipgloss.NewStyle().Foreground(subtle).Padding(0, 1).Border(lipgloss.HiddenBorder(), false, true)
	s.ButtonOn = lipgloss.NewStyle().Bold(true).Reverse(true).Padding(0, 1).Border(lipgloss.HiddenBorder(), false, true)

	s.Footer = lipgloss.NewStyle().Foreground(subtle)
	s.Demo = lipgloss.NewStyle().Foreground(amber)

	s.BarFull = accent
	s.BarEmpty = faint

	s.QR = lipgloss.NewStyle().Foreground(lipgloss.BrightWhite).Background(lipgloss.Black)

	s.Help = help.DefaultStyles(dark)
	s.Help.ShortKey = s.Help.ShortKey.Foreground(accent)
	s.Help.FullKey = s.Help.FullKey.Foreground(accent)
	s.Help.ShortDesc = s.Help.ShortDesc.Foreground(subtle)
	s.Help.FullDesc = s.Help.FullDesc.Foreground(subtle)
	s.Help.ShortSeparator = s.Help.ShortSeparator.Foreground(faint)
	s.Help.FullSeparator = s.Help.FullSeparator.Foreground(faint)
	s.Help.Ellipsis = s.Help.Ellipsis.Foreground(faint)

	s.Input = textinput.DefaultStyles(dark)
	s.Input.Cursor.Blink = false // a steady cursor: calmer, and stable in goldens
	s.Input.Cursor.Color = accent
	s.Input.Focused.Prompt = lipgloss.NewStyle().Foreground(accent)
	s.Input.Blurred.Prompt = lipgloss.NewStyle().Foreground(faint)
	s.Input.Blurred.Text = lipgloss.NewStyle().Foreground(subtle)
	// Italic survives NO_COLOR, so a placeholder never reads as typed.
	hint := lipgloss.NewStyle().Foreground(faint).Italic(true)
	s.Input.Focused.Placeholder, s.Input.Blurred.Placeholder = hint, hint
	s.Input.Focused.Suggestion, s.Input.Blurred.Suggestion = hint, hint
	return s
}

// badge is the coloured short name of a service.
func (s Styles) badge(service string) string {
	st, ok := s.Badge[service]
	if !ok {
		st = lipgloss.NewStyle().Width(5).Reverse(true)
	}
	return st.Render(serviceShort(service))
}

func serviceShort(service string) string { return account.Info(service).Short }

// serviceName is the service's name for people; the words live in account.
func serviceName(service string) string { return account.ServiceName(service) }
