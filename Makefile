# The two commands that set up a fresh machine. Both install what is missing (and so does bench).
.PHONY: demo test build bench

demo:
	scripts/demo.sh

test:
	scripts/test.sh

# Every benchmark in one run, each ratio against its peer measured in the same run (as root).
bench:
	scripts/bench.sh

build:
	scripts/install-deps.sh
	SWIFT_DETERMINISTIC_HASHING=1 swift build
