//go:build !unix

package config

// noFollow is 0 where open has no such flag; OpenNoFollow checks with
// Lstat instead.
const noFollow = 0
