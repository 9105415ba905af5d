#!/usr/bin/env bash
# Proves that scripts/setup.sh installs what the tests need from nothing: it runs the script with PYTHON
# pointing at a new, empty virtualenv (every Python package missing), then checks that each package is
# there, and that the shell scripts are shellcheck-clean. Run by .ci/run before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=$(mktemp -d "${TMPDIR:-/tmp}/marksync-setup-venv.XXXXXX")
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
if "$venv/bin/python" -m pip show diff-match-patch >/dev/null 2>&1; then
    echo "check-setup: the new virtualenv already has diff-match-patch; the check would prove nothing" >&2
    exit 1
fi

echo "check-setup: scripts/setup.sh with an empty virtualenv as PYTHON"
PYTHON="$venv/bin/python" bash scripts/setup.sh

missing=()
for name in diff-match-patch openapi-spec-validator selenium marksync websockets click pyyaml rich httpx pycrdt; do
    "$venv/bin/python" -m pip show "$name" >/dev/null 2>&1 || missing+=("$name")
done
if ((${#missing[@]})); then
    echo "check-setup: setup.sh exited 0 but did not install: ${missing[*]}" >&2
    exit 1
fi
"$venv/bin/python" -c 'import diff_match_patch, marksync, websockets, yaml' || {
    echo "check-setup: the installed packages do not import" >&2
    exit 1
}
echo "check-setup: every Python package was installed into the empty virtualenv"

if ! command -v shellcheck >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null 2>&1 ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; }
fi
shellcheck scripts/*.sh .ci/run
echo "check-setup: shellcheck clean"
