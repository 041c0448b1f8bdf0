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
    if [[ -n "$licence" ]]; then
        cp "$licence" "$target/LICENSE"
    else
        mit_licence "$unpack/package/package.json" >"$target/LICENSE"
    fi
    echo "vendored $spec into $dest/"
}

# Some packages declare the MIT licence in package.json but ship no licence
# file; the licence asks for its notice to travel with the code, so write the
# standard MIT text naming the package's author. Any other licence stops the
# refresh: its text must be added by hand.
mit_licence() {
    local manifest="$1" licence author
    licence="$(node -p "require('$manifest').license ?? ''")"
    author="$(node -p "const a = require('$manifest').author; a?.name ?? a ?? ''")"
    if [[ "$licence" != "MIT" || -z "$author" ]]; then
        echo "no licence file in $manifest, and not plain MIT with an author" >&2
        exit 1
    fi
    cat <<EOF
MIT License

Copyright (c) $author

(This package declares "license": "MIT" in its package.json and ships no
licence file; StemTube's vendor/refresh.sh wrote this standard MIT text.)

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
EOF
}

vendor socket.io-client@4.8.4 socket.io-client \
    dist/socket.io.esm.min.js \
    dist/socket.io.esm.min.js.map

vendor swagger-ui-dist@5.35.0 swagger-ui \
    swagger-ui-bundle.js \
    swagger-ui.css

vendor signalsmith-stretch@1.3.2 signalsmith-stretch \
    SignalsmithStretch.mjs
