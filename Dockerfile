# wasmserve's container image: one static binary FROM scratch.
#
#   make image                      # this checkout, built on the host; pulls no base image
#   docker build -t wasmserve .     # from source, in a golang build stage
#
# The last stage (the default) compiles in the golang stage; the target
# "prebuilt" (what `make image` builds, --target prebuilt) copies
# bin/image/rootfs instead, which `make image` fills with a CGO_ENABLED=0
# binary, the host's CA bundle and an empty /tmp, so no base image is pulled.
# Either way the image holds /wasmserve, /etc/ssl/certs/ca-certificates.crt
# (for https upstreams) and a world-writable /tmp (the compilation cache).
#
# A module goes in a derived image (see README "Running in production"):
#   FROM wasmserve:dev
#   COPY handler.wasm /handler.wasm
#   CMD ["/handler.wasm"]
# or is mounted (a volume, a Kubernetes ConfigMap) and named in the command.
ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /rootfs/wasmserve ./cmd/wasmserve \
    && mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
    && chmod 1777 /rootfs/tmp

# The image's configuration, written once: both targets below start from it.
FROM scratch AS runtime
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="wasmserve" \
      org.opencontainers.image.description="WebAssembly HTTP handler server: every request runs in its own wazero isolate" \
      org.opencontainers.image.source="https://github.com/wasmserve/wasmserve" \
      org.opencontainers.image.documentation="https://github.com/wasmserve/wasmserve#running-in-production" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# In a container the server must answer on every interface, not localhost;
# the compilation cache lives in /tmp (an emptyDir under Kubernetes, whose
# root file system is read-only).
ENV WASMSERVE_ADDRESS=any \
    WASMSERVE_CACHE_DIR=/tmp/wasmserve
USER 65532:65532
# 8080: the guests (--port); 9090: the admin listener when --admin=:9090.
EXPOSE 8080 9090
ENTRYPOINT ["/wasmserve", "serve"]

# make image: the files built on the host.
FROM runtime AS prebuilt
COPY bin/image/rootfs/ /

# docker build .: the files from the golang stage.
FROM runtime
COPY --from=build /rootfs/ /
