# lrj: `make demo` and `make test` do all set-up on a fresh Debian machine.
SWIFT ?= swift
# Debian packages lrj needs: C libraries to build against, ffmpeg/ffprobe for tests and benchmarks.
# chromium and its driver run the web console's browser tests.
APT_PACKAGES := pkg-config libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libpng-dev \
                libsqlite3-dev libopencv-dnn-dev libopencv-imgproc-dev libpango1.0-dev libcairo2-dev fonts-dejavu-core \
                poppler-utils postgresql ffmpeg python3 python3-pip \
                chromium chromium-driver curl openssl
# The optional CNN classifier's model (not in the repository): YOLOX-nano, Apache-2.0 (README).
MODEL_SOURCE ?= ../shared/models/yolox_nano.onnx
MODEL_SHA256 := c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d
MODEL_DIR ?= $(or $(LRJ_HOME),$(HOME)/.local/share/lrj)/models
# The detector's faster runtime (optional): OpenVINO's libraries from its PyPI wheel, installed into
# lrj's own folder (never into a Python), loaded by lrj at run time when present (README).
OPENVINO_VERSION := 2026.4.1
OPENVINO_DIR ?= $(or $(LRJ_HOME),$(HOME)/.local/share/lrj)/runtime/openvino

.PHONY: deps build release demo test bench samples clean

# Installs only what is missing (idempotent); uses sudo when not root.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@python3 -c "import selenium" 2>/dev/null || python3 -m pip install --quiet selenium 2>/dev/null \
	  || python3 -m pip install --quiet --break-system-packages selenium
	@command -v $(SWIFT) >/dev/null || { echo "error: Swift 6 toolchain not found (https://swift.org/install)"; exit 1; }
	@if [ -f "$(MODEL_SOURCE)" ] && [ ! -f "$(MODEL_DIR)/yolox_nano.onnx" ]; then \
	  if [ "$$(sha256sum < "$(MODEL_SOURCE)" | cut -d' ' -f1)" = "$(MODEL_SHA256)" ]; then \
	    mkdir -p "$(MODEL_DIR)" && cp "$(MODEL_SOURCE)" "$(MODEL_DIR)/yolox_nano.onnx" && \
	    echo "model copied to $(MODEL_DIR)/yolox_nano.onnx"; \
	  else echo "warning: $(MODEL_SOURCE) does not have the expected SHA-256; not copied"; fi; \
	fi
	@if ! ls "$(OPENVINO_DIR)"/openvino/libs/libopenvino_c.so* >/dev/null 2>&1; then \
	  echo "installing OpenVINO $(OPENVINO_VERSION) (PyPI wheel, libraries only) into $(OPENVINO_DIR)"; \
	  python3 -m pip install --quiet --disable-pip-version-check --no-deps --no-compile --target "$(OPENVINO_DIR)" \
	    openvino==$(OPENVINO_VERSION) 2>/dev/null \
	    || echo "warning: OpenVINO could not be installed; the detector runs on OpenCV DNN"; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product lrj

demo: release
	.build/release/lrj demo

test: deps
	$(SWIFT) build --product lrj
	$(SWIFT) build --product lrj-samplegen
	$(SWIFT) test

bench: deps
	Benchmarks/decode-bench.sh
	Benchmarks/ingest-bench.sh
	Benchmarks/index-bench.sh
	Benchmarks/synopsis-bench.sh

samples: deps
	$(SWIFT) build -c release --product lrj-samplegen
	.build/release/lrj-samplegen --out Samples

clean:
	rm -rf .build
