# HealthMesh — build, test and run. `make help` lists the targets.
SHELL := /bin/bash
CARGO ?= cargo
CONTRACTS := $(notdir $(wildcard contracts/*))

.PHONY: help build wasm proofs-wasm schema schema-check fmt fmt-check clippy unit-test test bench gas-profile clean \
	localnet localnet-status localnet-down localnet-reset e2e bench-relay fuzz chaos

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

build: ## Build the workspace (native)
	$(CARGO) build --workspace --all-targets --locked

wasm: ## Build, optimise and cosmwasm-check every contract into artifacts/
	scripts/build-wasm.sh

proofs-wasm: ## Build the proofs verifier (no default features) for wasm32-unknown-unknown
	$(CARGO) build --locked --release --lib -p healthmesh-proofs --no-default-features \
	  --target wasm32-unknown-unknown

schema: ## Write each contract's JSON schema to contracts/<name>/schema/
	@for c in $(CONTRACTS); do \
	  (cd contracts/$$c && $(CARGO) run --quiet --locked --bin $$c-schema) || exit 1; \
	done

schema-check: schema ## Fail if the committed schemas differ from the messages
	@git diff --exit-code --stat -- contracts/*/schema || \
	  { echo "schemas are out of date: run 'make schema' and commit"; exit 1; }

fmt: ## Format the code
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit-test:
	$(CARGO) test --workspace --locked

test: fmt-check clippy unit-test schema-check proofs-wasm wasm ## fmt check, clippy -D warnings, all tests, schemas current, wasm builds + check

fuzz: ## Deep fuzzing pass of every contract entry point and the proof decoders (FUZZ_CASES, default 200000 per target; FUZZ_SEED), then the gateway API (GATEWAY_FUZZ_CASES, default 20000)
	FUZZ_CASES=$(or $(FUZZ_CASES),200000) $(CARGO) test --locked -p healthmesh-integration-tests --test fuzz -- --nocapture
	FUZZ_CASES=$(or $(GATEWAY_FUZZ_CASES),20000) $(CARGO) test --locked -p hmesh-gateway --test fuzz -- --nocapture

bench: ## Groth16 benchmarks (criterion) and the gateway CountCohort load test, with summary tables
	$(CARGO) bench --locked -p healthmesh-proofs --bench groth16
	$(CARGO) bench --locked -p hmesh-gateway --bench count_cohort

# The localnet, the e2e, hmesh and the gateway are built once, together, in the dev profile
# and with the workspace's feature set: the build `make test` already made, reused.
BINS := $(CARGO) build --locked --workspace --bins
BIN_DIR := $(or $(CARGO_TARGET_DIR),target)/debug
LOCALNET := $(BIN_DIR)/hm-localnet

localnet: ## Three wasmd chains + contracts + Hermes on 127.0.0.1 (idempotent), then status
	$(BINS)
	$(LOCALNET) up

localnet-status: ## Chains, heights, contracts, channels, relayer
	@$(BINS) --quiet
	@$(LOCALNET) status

localnet-down: ## Stop every localnet process
	@$(BINS) --quiet
	@$(LOCALNET) down

localnet-reset: ## Stop and delete .localnet/
	@$(BINS) --quiet
	@$(LOCALNET) reset

e2e: ## The mission end to end against the running localnet, with measured figures
	$(BINS)
	GRPCURL=$$(scripts/ensure-research-tools.sh) $(BIN_DIR)/healthmesh-e2e

bench-relay: ## Relay benchmark on the running localnet: BENCH_N attestations (default 1000) from several senders, urgent mixed in (table + target/bench-relay.json)
	$(BINS)
	$(BIN_DIR)/healthmesh-e2e bench-relay $(or $(BENCH_OUT),$(BIN_DIR)/../bench-relay.json)

chaos: ## Faults and load on the running localnet (relayer, node, gateway killed; a timeout; 1,000 grants + 1,000 attestations, CHAOS_LOAD; two of four validators with VALIDATORS=4): table + target/chaos.json
	$(BINS)
	$(BIN_DIR)/healthmesh-e2e chaos $(or $(CHAOS_OUT),$(BIN_DIR)/../chaos.json)

GAS_PROBE := $(or $(CARGO_TARGET_DIR),target)/wasm32-unknown-unknown/wasm/healthmesh_gas_probe.wasm

gas-profile: ## Gas of each component of an attestation, priced by the running localnet (table + target/gas-profile.json)
	$(BINS)
	RUSTFLAGS="-C link-arg=-s" $(CARGO) build --profile wasm --lib --locked \
	  --target wasm32-unknown-unknown -p healthmesh-gas-probe
	PATH="$$(scripts/ensure-tools.sh):$$PATH" wasm-opt -Oz --enable-bulk-memory \
	  --llvm-memory-copy-fill-lowering $(GAS_PROBE) -o $(BIN_DIR)/../gas-probe.wasm
	$(BIN_DIR)/healthmesh-e2e gas-profile $(BIN_DIR)/../gas-probe.wasm $(BIN_DIR)/../gas-profile.json

clean: ## Remove build outputs
	$(CARGO) clean
	rm -rf artifacts
