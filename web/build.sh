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
