#!/usr/bin/env bash
# Installs the Debian 12 packages SeisVault builds, tests and runs with.
# Idempotent: when every package is already present it returns in well
# under a second without touching the network.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build
  libmseed-dev
  librocksdb-dev libxxhash-dev
  libzmq3-dev cppzmq-dev
  libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  libsodium-dev libssl-dev
  catch2
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev nlohmann-json3-dev
  libcpp-httplib-dev libconcurrentqueue-dev libpugixml-dev
  python3 python3-grpcio python3-protobuf python3-numpy python3-zmq python3-lxml python3-requests openssl
)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query is local and fast; only what is absent goes to apt-get.
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or install them with apt-get) and retry" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
