# Two images from one context, which `grader image build` assembles (this file, ca.crt, data/, src/):
# - `sandbox` (what `grader image build` builds): Python, torch, torchvision, the grader, and MNIST's
#   *training* set. The held-out test set is never copied in: the evaluator gets it through a read-only
#   mount that only its own container sees.
# - `serve` (`grader image build --target serve`): `grader serve /course`, grading through the host's Docker
#   engine in `sandbox` containers (README, "A grading service").
# BASE_IMAGE lets a machine without a registry build from a local image:
#   grader image build --base-image grader-base:local
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE} AS sandbox

ENV LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# pip behind a TLS-intercepting proxy needs the build machine's CA bundle (harmless elsewhere)
COPY ca.crt /etc/grader-ca.crt
ENV PIP_CERT=/etc/grader-ca.crt

# minimal Debian images lack ensurepip; official python images have it
RUN python3 -m venv /opt/venv 2>/dev/null || { \
      apt-get update && apt-get install -y --no-install-recommends python3-venv && \
      rm -rf /var/lib/apt/lists/* && python3 -m venv /opt/venv; }

# the heavy layer first, so code changes rebuild in seconds
ARG TORCH_SPEC="torch>=2.14 torchvision>=0.29"
RUN pip install $TORCH_SPEC "tqdm>=4.60" "matplotlib>=3.7"

COPY data/ /opt/grader/data/
COPY src/ /tmp/grader-src/
RUN pip install --no-deps /tmp/grader-src && rm -rf /tmp/grader-src

# the host refuses an image whose sandbox code differs from its own (grader image build sets this)
ARG GRADER_HARNESS=unknown
LABEL org.opencontainers.image.title="grader sandbox" \
      grader.data="/opt/grader/data" \
      grader.harness="${GRADER_HARNESS}"
USER 65534:65534
WORKDIR /sandbox/work
CMD ["python", "-c", "import grader, torch, torchvision; print('grader sandbox image:', grader.__version__, torch.__version__)"]

# ---------------------------------------------------------------------------------------------- serve
# Built on the sandbox stage: the same grader code (the engine refuses a sandbox image whose code differs)
# and torch, which the host side imports too. Bubblewrap cannot start in an unprivileged container, so the
# service grades in sibling `sandbox` containers through the host's engine (its socket mounted). Whoever
# holds that socket is root on the host, so a non-root user here would protect nothing: it runs as root.
# The engine resolves bind mounts on the host, so the temporary folder (TMPDIR) and the MNIST folder
# (GRADER_DATA_DIR) must be mounted at the same path inside as outside (README shows the command).
FROM sandbox AS serve
USER root
COPY src/ /tmp/grader-src/
RUN pip install "/tmp/grader-src[serve]" && rm -rf /tmp/grader-src
ENV TMPDIR=/var/tmp/grader-serve \
    GRADER_DATA_DIR=/srv/grader/mnist
RUN mkdir -p /var/tmp/grader-serve /course
LABEL org.opencontainers.image.title="grader serve"
WORKDIR /course
EXPOSE 8000
HEALTHCHECK --interval=30s --start-period=120s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=5)"]
ENTRYPOINT ["grader", "serve", "/course", "--host", "0.0.0.0", "--sandbox", "docker"]
