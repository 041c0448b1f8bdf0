#!/usr/bin/env bash
# Re-download the vendored browser libraries from the npm registry and copy
# the files the pages load, with each package's licence, into this folder.
# Run from anywhere; needs npm and tar. Versions are pinned here and in
# README.md: change both together.
set -euo pipefail

vendor_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT

# Fetch NAME@VERSION and copy FILES (paths inside the package) and the
# licence into vendor/DEST.
vendor() {
    local spec="$1" dest="$2"
    shift 2

    local unpack="$work_dir/$dest"
    mkdir -p "$unpack"
    (cd "$unpack" && npm pack --silent "$spec" >/dev/null)
    tar -xzf "$unpack"/*.tgz -C "$unpack"

    local target="$vendor_dir/$dest"
    rm -rf "$target"
    mkdir -p "$target"
    local file
    for file in "$@"; do
        cp "$unpack/package/$file" "$target/"
    done

    local licence
    licence="$(find "$unpack/package" -maxdepth 1 -iname 'licen[cs]e*' | head -n 1)"
    if [[ -z "$licence" ]]; then
        echo "no licence file in $spec" >&2
        exit 1
    fi
    cp "$licence" "$target/LICENSE"
    echo "vendored $spec into $dest/"
}

vendor socket.io-client@4.8.4 socket.io-client \
    dist/socket.io.esm.min.js \
    dist/socket.io.esm.min.js.map

vendor swagger-ui-dist@5.35.0 swagger-ui \
    swagger-ui-bundle.js \
    swagger-ui.css
