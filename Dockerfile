# The portal image: build with the Rust toolchain, run on Debian slim.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
ENV SQLX_OFFLINE=true
RUN cargo build --release --locked --bin esaas

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/target/release/esaas /usr/local/bin/esaas
COPY static /app/static
ENV ESAAS_LISTEN=0.0.0.0:8080 ESAAS_STATIC_DIR=/app/static
EXPOSE 8080
USER 65534
ENTRYPOINT ["esaas"]
CMD ["serve"]
