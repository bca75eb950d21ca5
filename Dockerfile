# nats-autotls: nats-server with managed TLS, as a container image.
#
#   docker build -t nats-autotls .
#   docker run -d --name nats -p 4222:4222 -p 9090:9090 -v nats-autotls:/data nats-autotls
#
# See docs/container.md. The build command below is the one
# example/nats-autotls/packaging_test.go runs: keep them in sync.

# The project's Go toolchain (GOTOOLCHAIN=go1.27.3 in CI and the README).
ARG GO_VERSION=1.27.3

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary: no libc in the final image.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
RUN go build -trimpath -ldflags=-s\ -w -o /out/nats-autotls ./example/nats-autotls
# The storage directory, owned by the image's user (distroless has no shell
# to make it): a new named volume starts as a copy of it.
RUN mkdir -p /out/data && chmod 0700 /out/data

# No shell, no package manager; runs as an unprivileged user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/nats-autotls /usr/local/bin/nats-autotls
COPY --from=build --chown=65532:65532 /out/data /data
# Certificates, keys, the private CA and the ACME account live here.
VOLUME ["/data"]
# client, HTTPS monitoring, cluster, the status port (/metrics, /healthz).
EXPOSE 4222 8222 6222 9090
USER 65532:65532
# distroless has no curl: the binary probes its own /healthz.
HEALTHCHECK --interval=30s --timeout=10s --start-period=5m --retries=3 \
  CMD ["/usr/local/bin/nats-autotls", "-autotls_probe", "http://127.0.0.1:9090/healthz"]
ENTRYPOINT ["/usr/local/bin/nats-autotls", "-autotls_storage", "/data", "-autotls_status", "0.0.0.0:9090"]
