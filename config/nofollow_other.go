//go:build !unix

package config

import "os"

// noFollow is 0 where open has no such flag; OpenNoFollow checks with
// Lstat instead.
const noFollow = 0

// privateDirProblem: Windows grants access by ACLs, which keyturn leaves to
// the system; a directory under the user's profile is private already.
func privateDirProblem(os.FileInfo) string { return "" }
