# tessera: the README's two commands are `make demo` and `make test`.
# Each works on a fresh Debian machine: both start by installing what is missing.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

BUILD  ?= build
RLIB   ?= $(CURDIR)/$(BUILD)/rlib
JOBS   ?= 2
STAGE  := $(BUILD)/stage
RCHECK := $(BUILD)/check
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
# Suggested packages that only the vignettes and demo read (rsparse) may be absent under `make test`.
R_ENV  := R_LIBS=$(RLIB) _R_CHECK_LIMIT_CORES_=true _R_CHECK_FORCE_SUGGESTS_=false
VERSION := $(shell sed -n 's/.*version_string = "\(.*\)";/\1/p' core/include/tessera/version.hpp)
TARBALL := $(BUILD)/tessera_$(VERSION).tar.gz

.PHONY: all deps build ctest cpp-consumer rpkg rinstall rtest check test demo vignettes bench install clean

all: build

deps:
	@tools/install-deps

# The C++ library and its doctest tests.
build: deps
	mkdir -p $(BUILD)
	cmake -S . -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=Release -DTESSERA_WERROR=ON > $(BUILD)/cmake-configure.log 2>&1 || { cat $(BUILD)/cmake-configure.log; exit 1; }
	cmake --build $(BUILD)/cmake -j $(JOBS)

ctest: build
	cd $(BUILD)/cmake && ctest --output-on-failure -j $(JOBS)

# Installs the library in a temporary prefix and builds examples/cpp against it
# with find_package(tessera), as another project would.
cpp-consumer: build
	rm -rf $(BUILD)/prefix $(BUILD)/consumer
	cmake --install $(BUILD)/cmake --prefix $(CURDIR)/$(BUILD)/prefix > /dev/null
	cmake -S examples/cpp -B $(BUILD)/consumer -DCMAKE_PREFIX_PATH=$(CURDIR)/$(BUILD)/prefix > $(BUILD)/consumer-configure.log 2>&1 || { cat $(BUILD)/consumer-configure.log; exit 1; }
	cmake --build $(BUILD)/consumer -j $(JOBS)
	$(BUILD)/consumer/tessera_example

# The R package: assembled in $(STAGE), built without vignettes (the heavy
# reproductions render with `make vignettes`).
# Everything the R package is made from: the tarball is rebuilt only when one changes.
RPKG_INPUTS := $(shell find rpkg core data tools/assemble-rpkg -type f 2>/dev/null) \
               core/include/tessera/version.hpp
RINSTALLED  := $(RLIB)/tessera/DESCRIPTION

rpkg: deps $(TARBALL)

$(TARBALL): $(RPKG_INPUTS)
	mkdir -p $(BUILD)
	tools/check-r-names.sh
	tools/assemble-rpkg $(STAGE)
	cd $(BUILD) && R CMD build --no-build-vignettes --no-manual stage/tessera > rbuild.log 2>&1 || { cat rbuild.log; exit 1; }

rinstall: deps $(RINSTALLED)

$(RINSTALLED): $(TARBALL)
	mkdir -p $(RLIB)
	MAKEFLAGS="-j$(JOBS)" R CMD INSTALL -l $(RLIB) $(TARBALL) > $(BUILD)/rinstall.log 2>&1 || { tail -50 $(BUILD)/rinstall.log; exit 1; }
	touch $@

rtest: rinstall
	$(R_ENV) Rscript tools/run-r-tests.R rpkg/tests/testthat
	$(R_ENV) tools/check-interrupt.sh

# R CMD check of the built tarball: no ERROR and no WARNING allowed. The tests were
# just run by `rtest` on the same tarball, so the check skips them.
check: rpkg
	rm -rf $(RCHECK) && mkdir -p $(RCHECK)
	$(R_ENV) MAKEFLAGS="-j$(JOBS)" R CMD check --no-manual --ignore-vignettes --no-tests -o $(RCHECK) $(TARBALL) > $(RCHECK)/check.log 2>&1 || true
	tools/check-verdict $(RCHECK)/check.log

test: ctest cpp-consumer rtest check
	@echo "make test: all stages passed"

# The main job: render the tour on real data and print its summary. The demo tier of
# install-deps adds the data packages the tour reads (rsparse: MovieLens 100K).
demo: rinstall
	tools/install-deps --demo
	mkdir -p $(BUILD)/demo
	$(R_ENV) Rscript tools/render-tour.R vignettes/tour.Rmd $(CURDIR)/$(BUILD)/demo

vignettes: rinstall
	tools/install-deps --demo
	mkdir -p $(BUILD)/vignettes
	for f in vignettes/*.Rmd; do \
	  $(R_ENV) Rscript -e 'rmarkdown::render(commandArgs(TRUE)[1], output_dir = commandArgs(TRUE)[2], quiet = TRUE)' $$f $(CURDIR)/$(BUILD)/vignettes; \
	done

bench: rinstall
	tools/install-deps --bench
	for f in bench/*/run.sh; do [ -f "$$f" ] && $(R_ENV) bash "$$f"; done

# Installs the R package into the default library and the C++ library into PREFIX.
PREFIX ?= /usr/local
install: rpkg build
	R CMD INSTALL $(TARBALL)
	cmake --install $(BUILD)/cmake --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)
