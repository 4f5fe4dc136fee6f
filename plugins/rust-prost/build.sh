#!/usr/bin/env bash
# Builds protoc-gen-protodepot-prost offline from Debian's vendored crates (librust-prost-build-dev and friends,
# .ci/apt/rust-cmake.txt): crates.io is replaced by /usr/share/cargo/registry, nothing is downloaded. Prints the
# binary's path. Repeated runs reuse target/ (cargo rebuilds only what changed). Used by the quick start,
# test/e2e/cargo.test.ts and the server's built-in detection (src/services/builtins.ts looks for the binary).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cargo_bin="${CARGO:-$(command -v cargo || echo /root/.cargo/bin/cargo)}"
registry="${PROTODEPOT_CARGO_VENDOR:-/usr/share/cargo/registry}"
# rustc beside cargo (rustup's ~/.cargo/bin may not be on a CI shell's PATH).
export PATH="$(dirname "$cargo_bin"):$PATH"
home="$here/target/cargo-home"
mkdir -p "$home"
cat >"$home/config.toml" <<TOML
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "$registry"
[net]
offline = true
TOML
CARGO_HOME="$home" "$cargo_bin" build --quiet --release --offline \
  --manifest-path "$here/Cargo.toml" --target-dir "$here/target" >&2
echo "$here/target/release/protoc-gen-protodepot-prost"
