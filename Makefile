# cinfer: top-level entry points. `make demo` and `make test` are all a
# newcomer needs; both install missing Debian packages first (as root).
SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc)
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export LC_ALL := C
export TZ := UTC
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)
CMAKE_FLAGS ?=

.PHONY: all build deps test test-asan demo fuzz bench conformance repro clean lint sbom release supply

all: build

deps:
	@tools/install-deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCINFER_VERSION=$(VERSION) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@tools/install-deps.sh test
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@$(MAKE) --no-print-directory test BUILD=build-asan \
	    CMAKE_FLAGS="-DCINFER_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"

demo: build
	@tools/install-deps.sh demo
	@tools/demo.sh $(BUILD)

fuzz: deps
	@tools/install-deps.sh fuzz
	@tools/fuzz.sh $(or $(FUZZ_SECONDS),10)

bench: build
	@tools/install-deps.sh bench
	@bench/run.sh $(BUILD)

conformance: build
	@tools/conformance.sh $(BUILD)

repro: deps
	@tools/repro-check.sh

# Supply chain: SBOM of the cinferd image, a release folder, the CI gate.
sbom: build
	@/usr/bin/python3 tools/sbom.py --program $(BUILD)/cinferd --config supply/cinferd.json \
	    --version $(VERSION) --out $(BUILD)/sbom.spdx.json
	@echo "wrote $(BUILD)/sbom.spdx.json"

release: deps
	@tools/release.sh $(RELEASE_FLAGS)

supply: build
	@tools/supply-check.sh --bin $(BUILD) $(SUPPLY_FLAGS)

clean:
	rm -rf build build-asan build-fuzz build-repro-* build-release out
