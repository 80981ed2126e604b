# gosync's two promises: `make demo` runs the main job and `make check`
# runs every test, each doing its own set-up on a fresh Debian machine.
# The real build is CMake; this file only drives it.

BUILD   ?= build
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CTEST    = ctest --output-on-failure --timeout 120 -j$(JOBS)

# What the builds, tests and demo need, as Debian packages.
DEB_PACKAGES = cmake make gcc clang pkg-config curl libmicrohttpd-dev \
	libclang-rt-dev spin
# Each command or file whose absence means the packages are missing.
NEEDED = cmake gcc clang pkg-config curl spin

.PHONY: all deps build check check-release check-fallback check-tsan \
	check-asan check-models check-fuzz demo bench bench-deps install clean

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
# and the fuzz targets for a short while.
check: deps
	@$(MAKE) --no-print-directory check-release check-fallback \
		check-tsan check-asan check-models check-fuzz
	@echo "check: all four builds, the models and the fuzzers passed"

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

# The peers the benchmarks compare with; one that is missing is skipped.
BENCH_PACKAGES = libglib2.0-dev golang-go libck-dev liburcu-dev libtbb-dev \
	libabsl-dev libcuckoo-dev gnuplot-nox

bench-deps: deps
	@if ! pkg-config --exists glib-2.0 ck liburcu-memb tbb \
		absl_flat_hash_map || ! command -v go >/dev/null || \
		! command -v gnuplot >/dev/null || \
		[ ! -f /usr/include/libcuckoo/cuckoohash_map.hh ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "bench: installing $(BENCH_PACKAGES)"; \
			{ apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				$(BENCH_PACKAGES) >/dev/null; } || \
				echo "bench: peers not installed; they are skipped"; \
		else \
			echo "bench: for every peer run:"; \
			echo "  sudo apt-get install -y $(BENCH_PACKAGES)"; \
		fi; \
	fi

bench: bench-deps
	$(call configure,release,gcc,-DCMAKE_BUILD_TYPE=RelWithDebInfo)
	@bash bench/run.sh $(BUILD)/release

install: build
	cmake --install $(BUILD)/release --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)
