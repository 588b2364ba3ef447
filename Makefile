# The two commands of the README:
#   make demo   build, start the emulator, run the seed's cloud-test scenario in the mini-program sandbox
#   make test   every test: Rust (native + wasm boundary), type check, the bundle in the sandbox
# Both install what is missing first (scripts/setup.sh, idempotent).
#   make bench  the benchmarks against the peers, in V8 and in JavaScriptCore without a JIT (not part of
#               the tests); writes BENCHMARKS.md. BENCH_ONLY=v8|jsc, BENCH_SCENARIOS=hit,miss,...,
#               BENCH_SUBJECTS=mp-request,tanstack run a part (printed, BENCHMARKS.md left alone);
#               node benches/profile-jsc.mjs [scenario ...] profiles mp-request in jsc
#   make fuzz   build, then 1,000,000 seeded cases through the bundle in the sandbox (tests/fuzz/);
#               FUZZ_SEED and FUZZ_CASES override, FUZZ_STRICT=1 counts known-open failures too
#   make package  build, then the npm package: dist/mp-request-<version>.tgz (scripts/package.mjs)
SHELL := /bin/bash
.PHONY: setup build package demo test bench lint test-rust test-wasm typecheck test-js fuzz

setup:
	@bash scripts/setup.sh

build: setup
	wasm-pack --quiet build --target bundler --release --mode no-install --out-dir pkg -- --no-default-features --features requests
	CARGO_TARGET_DIR=target/sockets wasm-pack --quiet build --target bundler --release --mode no-install --out-dir pkg-sockets --out-name mp_request_sockets -- --no-default-features --features sockets
	CARGO_TARGET_DIR=target/fleet wasm-pack --quiet build --target nodejs --release --mode no-install --out-dir pkg-fleet --out-name mp_request_fleet -- --no-default-features --features fleet
	node scripts/build-bundle.mjs
	node scripts/copy-bundle-to-example.mjs

package: build
	node scripts/package.mjs

demo: build
	node demo/run-demo.mjs

test: build lint test-rust test-wasm typecheck test-js

fuzz: build
	FUZZ_CASES=$${FUZZ_CASES:-1000000} node tests/fuzz/run.mjs

bench: build
	@bash scripts/setup-bench.sh
	node --expose-gc benches/run.mjs

lint:
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings
	cargo clippy --quiet --target wasm32-unknown-unknown --lib -- -D warnings
	cargo clippy --quiet --target wasm32-unknown-unknown --lib --no-default-features --features requests -- -D warnings
	cargo clippy --quiet --target wasm32-unknown-unknown --lib --no-default-features --features sockets -- -D warnings
	cargo clippy --quiet --target wasm32-unknown-unknown --lib --no-default-features --features fleet -- -D warnings
	cargo clippy --quiet --target wasm32-unknown-unknown --tests --features std -- -D warnings

test-rust:
	cargo test --quiet

test-wasm:
	wasm-pack test --node --mode no-install -- --features std

typecheck:
	node_modules/.bin/tsc -p js-shim/tsconfig.json
	node_modules/.bin/tsc -p examples/miniprogram/jsconfig.json

test-js:
	node --test --test-concurrency=1 tests/js/
