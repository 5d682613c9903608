//go:build unix

package keystore

import (
	"io/fs"
	"os/exec"
	"syscall"
)

var exeSuffixes = []string{""}

func isExecutable(st fs.FileInfo) bool { return st.Mode().Perm()&0o111 != 0 }

// detach starts the child in a session of its own, with no controlling
// terminal: nothing it runs (ssh, a curses pinentry) can open /dev/tty and
// draw on the terminal keyturn's TUI owns.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
