//go:build !unix

package keystore

import (
	"io/fs"
	"os/exec"
)

var exeSuffixes = []string{".exe", ""}

func isExecutable(fs.FileInfo) bool { return true }

func detach(*exec.Cmd) {}
