# A Ray worker node for `grader grade --executor ray`: Python, torch, the grader with its ray extra, and
# bubblewrap, the process sandbox every slot on the node grades in (a slot refuses to start without one).
# MNIST is optional: the driver ships it once through Ray's object store (verified by sha256); bake it in
# at /opt/grader/mnist (GRADER_DATA_DIR) to skip that transfer.
#
# A separate file, not a stage of ./Dockerfile: `grader image build` builds that one with Docker's legacy
# builder, which would build every earlier stage too. Build from a clean tree of this repository:
#   git archive HEAD | docker build -t grader-ray-worker -f docker/ray-worker.Dockerfile -
# Run (bubblewrap needs user namespaces: an unconfined seccomp profile, or --privileged):
#   docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined --shm-size 2g \
#     grader-ray-worker ray start --address HEAD:6379 --block
# A node may instead grade in the Docker backend: mount the host's engine socket and have the grader image
# (`grader image build`) on that host.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH GRADER_DATA_DIR=/opt/grader/mnist
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap util-linux && \
    rm -rf /var/lib/apt/lists/* && python3 -m venv /opt/venv

# the heavy layer first, so code changes rebuild in seconds
ARG TORCH_SPEC="torch>=2.14 torchvision>=0.29"
RUN pip install $TORCH_SPEC "ray>=2.40"

COPY pyproject.toml README.md /opt/grader/src/
COPY grader/ /opt/grader/src/grader/
RUN pip install "/opt/grader/src[ray]" && mkdir -p /opt/grader/mnist && \
    grader sandbox status || echo "note: the sandbox needs the run options above"
CMD ["ray", "start", "--address", "ray-head:6379", "--block"]
