# gosync's two promises: `make demo` runs the main job and `make check`
# runs every test, each doing its own set-up on a fresh Debian machine.
# The real build is CMake; this file only drives it.

BUILD   ?= build
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CTEST    = ctest --output-on-failure --timeout 120 -j$(JOBS)

# What the builds, tests and demo need, as Debian packages.
DEB_PACKAGES = cmake make gcc clang pkg-config curl libmicrohttpd-dev \
	libclang-rt-dev spin doxygen
# Each command or file whose absence means the packages are missing.
NEEDED = cmake gcc clang pkg-config curl spin doxygen

.PHONY: all deps build check check-release check-fallback check-tsan \
	check-asan check-models check-fuzz check-consumer docs demo bench \
	bench-deps install clean

all: build

deps:
	@missing=""; \
	for c in $(NEEDED); do command -v $$c >/dev/null || missing=1; done; \
	pkg-config --exists libmicrohttpd 2>/dev/null || missing=1; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "deps: installing $(DEB_PACKAGES)"; \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				$(DEB_PACKAGES) >/dev/null || exit 1; \
		else \
			echo "deps: missing packages; run:"; \
			echo "  sudo apt-get install -y $(DEB_PACKAGES)"; \
			exit 1; \
		fi; \
	fi

# configure DIR, COMPILER, EXTRA-FLAGS
define configure
	cmake -S . -B $(BUILD)/$(1) -DCMAKE_C_COMPILER=$(2) $(3) >/dev/null
	cmake --build $(BUILD)/$(1) -j$(JOBS) >/dev/null
endef

build: deps
	$(call configure,release,gcc,-DCMAKE_BUILD_TYPE=RelWithDebInfo)

# Four builds, each running the whole suite: gcc with futex; clang with
# the parking-lot wait layer; ThreadSanitizer; AddressSanitizer with
# UBSan and LeakSanitizer. Then the spin models of the state machines,
# an outside project built against an install of the release build,
# the API reference with the guide's code, and the fuzz targets for a
# short while.
check: deps
	@$(MAKE) --no-print-directory check-release check-fallback \
		check-tsan check-asan check-models check-fuzz check-consumer \
		docs
	@echo "check: all four builds, the models, the fuzzers, the" \
		"consumer and the docs passed"

check-models: deps
	sh models/check.sh $(BUILD)/models

check-release: deps
	$(call configure,release,gcc,-DCMAKE_BUILD_TYPE=RelWithDebInfo)
	cd $(BUILD)/release && $(CTEST)

check-fallback: deps
	$(call configure,fallback,clang,-DGS_WAIT_FALLBACK=ON)
	cd $(BUILD)/fallback && $(CTEST)

check-tsan: deps
	$(call configure,tsan,clang,-DGS_SANITIZE=thread -DGS_BUILD_BENCH=OFF)
	cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1 $(CTEST)

check-asan: deps
	$(call configure,asan,clang,-DGS_SANITIZE=address -DGS_BUILD_BENCH=OFF)
	cd $(BUILD)/asan && \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST)

# An install into a temporary prefix, used by tests/consumer through
# find_package and through pkg-config; see scripts/check-consumer.sh.
check-consumer: deps
	$(call configure,release,gcc,-DCMAKE_BUILD_TYPE=RelWithDebInfo)
	bash scripts/check-consumer.sh $(BUILD)/release

# The API reference, HTML in $(BUILD)/docs (index.html), from the
# headers through Doxyfile; any Doxygen warning fails. Then the checks
# that it lists every public name and that the code of docs/*.md
# compiles.
docs: deps
	rm -rf $(BUILD)/docs && mkdir -p $(BUILD)/docs
	GS_DOCS_OUT=$(BUILD)/docs doxygen Doxyfile
	sh docs/check-reference.sh $(BUILD)/docs
	sh docs/check-snippets.sh $(BUILD)/docs/snippets docs/*.md

# libFuzzer (clang, with ASan and UBSan): each target runs FUZZ_TIME
# seconds from an empty corpus kept in the build folder.
FUZZ_TIME ?= 20
check-fuzz: deps
	cmake -S . -B $(BUILD)/fuzz -DCMAKE_C_COMPILER=clang \
		-DGS_SANITIZE=address -DGS_BUILD_FUZZ=ON -DGS_BUILD_TESTS=OFF \
		-DGS_BUILD_BENCH=OFF -DGS_BUILD_EXAMPLES=OFF >/dev/null
	cmake --build $(BUILD)/fuzz -j$(JOBS) --target fuzz_map >/dev/null
	mkdir -p $(BUILD)/fuzz/corpus-map
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
		$(BUILD)/fuzz/tests/fuzz/fuzz_map -max_total_time=$(FUZZ_TIME) \
		$(BUILD)/fuzz/corpus-map >$(BUILD)/fuzz/fuzz_map.log 2>&1; \
		st=$$?; tail -n 3 $(BUILD)/fuzz/fuzz_map.log; exit $$st

demo: build
	@bash scripts/demo.sh $(BUILD)/release

# The peers the benchmarks compare with, Go and x/sync for Go's own
# figures, and gnuplot for the report's charts; one that is missing is
# skipped, with a line saying so. bench/run.sh reads this list to give
# their versions in the report.
BENCH_PACKAGES = libglib2.0-dev libck-dev liburcu-dev libtbb-dev \
	libabsl-dev libcuckoo-dev g++ golang-go golang-golang-x-sync-dev \
	gnuplot-nox

bench-deps: deps
	@missing=""; \
	for p in $(BENCH_PACKAGES); do \
		dpkg-query -W -f '$${Status}' $$p 2>/dev/null | \
			grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "bench: installing$$missing"; \
			{ apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				$$missing >/dev/null; } || \
				echo "bench: peers not installed; they are skipped"; \
		else \
			echo "bench: for every peer run:"; \
			echo "  sudo apt-get install -y$$missing"; \
		fi; \
	fi

# Every bench_* program, then Go's; results, CSV, charts and report.md
# in bench/results/ (bench/run.sh says what each file holds).
bench: bench-deps
	$(call configure,release,gcc,-DCMAKE_BUILD_TYPE=RelWithDebInfo)
	@bash bench/run.sh $(BUILD)/release

install: build
	cmake --install $(BUILD)/release --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)
