#!/usr/bin/env bash
# Builds the browser verifier: por-web for wasm32, wasm-bindgen's glue, and one self-contained
# page (web/dist/verify.html: the wasm is inlined, so it works from file:// with no network).
# Prints the SHA-256 of the wasm and of the page, which the README's release instructions
# publish.
#   Toolchain: `rustup target add wasm32-unknown-unknown` on a normal machine; where rustup
#   cannot fetch targets, ../shared/tools/wasm-toolchain.sh sets up Debian's Rust (read it).
#   wasm-bindgen-cli of the version pinned in web/Cargo.toml: cargo install wasm-bindgen-cli --version 0.2.114
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f ../shared/tools/wasm-toolchain.sh ]; then
  eval "$(bash ../shared/tools/wasm-toolchain.sh)"
fi
CARGO=${CARGO:-cargo}
# Every tool first, each with what to do: a missing one must not cost a full compile to find.
bindgen=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' web/Cargo.toml)
missing=0
need() { echo "web/build.sh: $1" >&2; missing=1; }
command -v "$CARGO" >/dev/null || need "no cargo ($CARGO): install Rust (rustup.rs)"
command -v python3 >/dev/null || need "no python3: it assembles the page (Debian: apt-get install python3)"
command -v sha256sum >/dev/null || need "no sha256sum: it prints the hashes to publish (GNU coreutils)"
if ! command -v wasm-bindgen >/dev/null; then
  need "no wasm-bindgen: cargo install wasm-bindgen-cli --version $bindgen --locked"
elif ! wasm-bindgen --version | grep -qx "wasm-bindgen $bindgen"; then
  need "wasm-bindgen is $(wasm-bindgen --version), the page needs $bindgen (web/Cargo.toml): cargo install wasm-bindgen-cli --version $bindgen --locked"
fi
if [ -z "${WASM_CARGO_FLAGS:-}" ] && command -v rustup >/dev/null \
  && ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  need "no wasm32-unknown-unknown target: rustup target add wasm32-unknown-unknown (or, where rustup cannot fetch it, ../shared/tools/wasm-toolchain.sh)"
fi
[ "$missing" -eq 0 ] || exit 2
# Reproducible: no local paths in the binary, one codegen unit, no incremental state.
export RUSTFLAGS="--remap-path-prefix=$PWD=/por --remap-path-prefix=$HOME=/home -C codegen-units=1 -C strip=symbols"
export CARGO_INCREMENTAL=0
"$CARGO" build -q -p por-web --release --target wasm32-unknown-unknown --target-dir target/wasm ${WASM_CARGO_FLAGS:-}
rm -rf web/dist && mkdir -p web/dist/pkg
wasm-bindgen --target no-modules --no-typescript --out-dir web/dist/pkg \
  target/wasm/wasm32-unknown-unknown/release/por_web.wasm
python3 - <<'PY'
import base64, pathlib
page = pathlib.Path("web/page.html").read_text()
glue = pathlib.Path("web/dist/pkg/por_web.js").read_text()
wasm = base64.b64encode(pathlib.Path("web/dist/pkg/por_web_bg.wasm").read_bytes()).decode()
out = page.replace("/*GLUE*/", glue).replace("/*WASM*/", wasm)
pathlib.Path("web/dist/verify.html").write_text(out)
PY
sha256sum web/dist/pkg/por_web_bg.wasm web/dist/verify.html
ls -l web/dist/pkg/por_web_bg.wasm web/dist/verify.html | awk '{print $5, $9}'
