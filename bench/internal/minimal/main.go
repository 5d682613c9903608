// Command minimal is the first-frame and memory baseline of bench/run: a
// Bubble Tea v2 program (the same module version keyturn uses) that draws
// one line and waits for q or ctrl+c.
package main

import (
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"
)

// Marker is the line it draws; bench/run waits for it in the pty output.
const Marker = "minimal-bubbletea-ready"

type model struct{}

func (model) Init() tea.Cmd { return nil }

func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && (k.String() == "q" || k.String() == "ctrl+c") {
		return m, tea.Quit
	}
	return m, nil
}

func (model) View() tea.View { return tea.NewView(Marker) }

func main() {
	if _, err := tea.NewProgram(model{}).Run(); err != nil {
		fmt.Fprintln(os.Stderr, "minimal:", err)
		os.Exit(1)
	}
}
