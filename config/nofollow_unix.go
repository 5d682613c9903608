//go:build unix

package config

import (
	"fmt"
	"os"
	"syscall"
)

// noFollow makes an open fail on a symbolic link instead of following it.
const noFollow = syscall.O_NOFOLLOW

// privateDirProblem says what makes dir unfit to hold keyturn's locks and
// journals: another user owns it, or others can write in it (and so plant
// or swap files there). "" when it is fit.
func privateDirProblem(fi os.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Sprintf("is owned by another user (uid %d)", st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Sprintf("can be written by other users (mode %v)", fi.Mode().Perm())
	}
	return ""
}
