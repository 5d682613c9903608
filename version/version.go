// Package version holds keyturn's version, set at build time with
// -ldflags "-X keyturn/version.Version=…".
package version

// Version is keyturn's release; "dev" for a build from a work tree.
var Version = "0.1.0-dev"
