# The two commands that set up a fresh machine. Both install what is missing.
.PHONY: demo test build

demo:
	scripts/demo.sh

test:
	scripts/test.sh

build:
	scripts/install-deps.sh
	SWIFT_DETERMINISTIC_HASHING=1 swift build
