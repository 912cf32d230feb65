# HAIP — two commands do everything on a fresh Debian 12 machine:
#   make run    install what is missing, build, start the platform with a demo hospital
#   make test   install what is missing, build, run every test
BUILD ?= build
JOBS ?= 2
BUILD_TYPE ?= RelWithDebInfo
DATA_DIR ?= haip-data
DEMO_PATIENTS ?= 2000
LISTEN ?= 127.0.0.1:8080
HAIP := $(BUILD)/haip

.PHONY: all deps configure build web run demo test test-cpp test-web bench fmt lint clean help

all: build web

help:
	@echo "make run      build and start HAIP with a demo hospital on http://$(LISTEN)"
	@echo "make test     build and run every test"
	@echo "make bench    run every benchmark (bench/results/*.jsonl); make bench-NAME for one"
	@echo "make fmt      clang-format the sources;  make lint  clang-tidy on changed files"

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j$(JOBS)

web: deps
	cd web && npm run build

# The demo hospital comes from HAIP's own generator, made once per data dir,
# and is loaded into the lake (files already loaded are skipped).
demo: build
	@if [ ! -f $(DATA_DIR)/demo-hospital/Patient.ndjson ]; then \
	  echo "generating the demo hospital ($(DEMO_PATIENTS) patients) into $(DATA_DIR)/demo-hospital"; \
	  $(HAIP) synth --patients $(DEMO_PATIENTS) --seed 2026 --out $(DATA_DIR)/demo-hospital; \
	fi
	$(HAIP) ingest fhir --data-dir $(DATA_DIR) $(DATA_DIR)/demo-hospital

run: build web demo
	$(HAIP) serve --data-dir $(DATA_DIR) --listen $(LISTEN)

test: build web
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure --timeout 900

test-cpp: build
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure -E web_

test-web: build web
	cd $(BUILD) && ctest --output-on-failure -R web_

BENCHES := $(patsubst bench/%/run.sh,%,$(wildcard bench/*/run.sh))

bench: $(addprefix bench-,$(BENCHES))

bench-%: build
	@mkdir -p bench/results
	bash bench/$*/run.sh $(BUILD)

fmt:
	find src tests bench -name '*.h' -o -name '*.cpp' | xargs clang-format -i

# clang-tidy on the C++ files changed against origin/main (or the last commit).
lint: configure
	@base=$$(git merge-base HEAD origin/main 2>/dev/null || git rev-parse HEAD~1 2>/dev/null || echo HEAD); \
	files=$$( (git diff --name-only $$base; git diff --name-only) | sort -u | grep -E '^src/.*\.cpp$$' || true); \
	if [ -z "$$files" ]; then echo "lint: no changed C++ files"; exit 0; fi; \
	clang-tidy -p $(BUILD) --quiet $$files

clean:
	rm -rf $(BUILD) web/dist
