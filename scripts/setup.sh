#!/usr/bin/env bash
# Installs what building and testing marksync-log needs on a fresh Debian machine (run as root).
# Idempotent: packages already present are not fetched again.
set -euo pipefail

APT_PACKAGES=(libsqlite3-dev liblz4-dev zlib1g-dev pkg-config
    # The web UI's tests drive a real headless browser.
    chromium chromium-driver
    # Yjs as a reader of the CRDT projection's exports (Debian's packages of yjs, y-protocols, lib0).
    nodejs node-yjs node-y-protocols node-lib0
    # PostgreSQL 15 for the PostgreSQL backend's tests, which initdb and start their own server in a temporary
    # folder on a free loopback port (Tests/Support/LivePostgres.swift).
    postgresql-15)
# Reference implementations used by the tests and the vector generators.
PIP_PACKAGES=("diff-match-patch==20241021" "openapi-spec-validator==0.7.1" "selenium==4.27.1")
# The Python marksync client, agents and CLI (tests/interop: tools/interop/*.py). Installed without its
# declared dependencies (they pull ~700 MB through markpact: litellm, pandas, numpy…), then with the few
# it really needs for push, agents and its server (see ../shared/README.md).
PIP_NO_DEPS_PACKAGES=("marksync==0.2.17")
PIP_LIGHT_DEPENDENCIES=(websockets click pyyaml rich httpx pycrdt)

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]} with apt-get"
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
        # No cluster of Debian's own (it would be started on port 5432): the tests run theirs.
        $SUDO mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/marksync-no-main-cluster.conf >/dev/null
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: swift is not on the PATH; install Swift 6.2 or newer (this project is tested with 6.3.1)" >&2
    exit 1
fi

PYTHON=${PYTHON:-python3}
# pip_install SPEC [pip options…]: installs SPEC unless it is already there (at its version when pinned).
pip_install() {
    local spec=$1
    shift
    local name=${spec%%==*}
    local installed
    # pip show fails for a package that is not installed: that is the case to handle, not an error (set -e).
    installed=$("$PYTHON" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p' || true)
    if [ "$spec" = "$name" ]; then
        [ -n "$installed" ] && return 0
    else
        [ "$installed" = "${spec##*==}" ] && return 0
    fi
    echo "setup: installing $spec with pip${*:+ ($*)}"
    "$PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore "$@" "$spec"
}
if command -v "$PYTHON" >/dev/null 2>&1; then
    for spec in "${PIP_PACKAGES[@]}"; do pip_install "$spec"; done
    for spec in "${PIP_NO_DEPS_PACKAGES[@]}"; do pip_install "$spec" --no-deps; done
    for spec in "${PIP_LIGHT_DEPENDENCIES[@]}"; do pip_install "$spec"; done
else
    echo "setup: no python3; the Python compatibility checks will be skipped" >&2
fi
