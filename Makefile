# The two commands of the README:
#   make demo   build, then watch fraud scoring live on the embedded broker
#   make test   build, then run every test (unit, embedded broker, real Kafka)
# Both install what the build needs first (scripts/setup), so a fresh machine
# needs nothing else. CI (.ci/run) calls `make test`.

BUILD ?= build
# Warnings are errors in CI.
WERROR := $(if $(CI),ON,OFF)
CTEST_FLAGS ?= --output-on-failure -j2

.PHONY: all build demo test clean

all: build

build:
	@scripts/setup
	@cmake -S . -B $(BUILD) -G Ninja -DKAPPA_WERROR=$(WERROR) > $(BUILD).configure.log 2>&1 || { cat $(BUILD).configure.log; exit 1; }
	@cmake --build $(BUILD)

demo: build
	@scripts/demo $(BUILD)

test: build
	@cd $(BUILD) && ctest $(CTEST_FLAGS)

clean:
	rm -rf $(BUILD) $(BUILD).configure.log
