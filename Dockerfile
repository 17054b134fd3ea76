# Multi-stage: build with the Rust toolchain, run on a slim Debian with only the binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY templates templates
COPY static static
COPY migrations migrations
RUN cargo build --release --locked && strip target/release/roster

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/roster --create-home roster
COPY --from=build /src/target/release/roster /usr/local/bin/roster
USER roster
WORKDIR /var/lib/roster
ENV ROSTER_BIND=0.0.0.0:8080 ROSTER_DATA_DIR=/var/lib/roster/data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["roster"]
CMD ["serve"]
