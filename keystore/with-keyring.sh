#!/bin/sh
# with-keyring.sh CMD [ARGS...]
#
# Runs CMD inside a private D-Bus session with a freshly unlocked
# gnome-keyring (Secret Service) whose files live in a temporary directory,
# so keyring tests touch no one's real keyring. CI uses it as:
#
#   KEYTURN_TEST_KEYRING=1 keystore/with-keyring.sh go test -race ./keystore/...
#
# Needs Debian's dbus, gnome-keyring and (for the secret-tool check)
# libsecret-tools.
set -eu
if [ -z "${KEYTURN_IN_KEYRING_SESSION:-}" ]; then
	for tool in dbus-run-session gnome-keyring-daemon; do
		command -v "$tool" >/dev/null 2>&1 || {
			echo "with-keyring.sh: $tool not found (apt-get install dbus gnome-keyring libsecret-tools)" >&2
			exit 127
		}
	done
	KEYTURN_IN_KEYRING_SESSION=1 exec dbus-run-session -- sh "$0" "$@"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
export XDG_DATA_HOME="$tmp/data"
# The daemon reads the new keyring's password from stdin and creates an
# unlocked "login" collection.
printf '%s' "keyturn-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$@"
