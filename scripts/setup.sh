#!/bin/bash
# setup.sh - installs the Debian 12 packages that building and testing
# promise need, idempotently: only missing packages are installed, and apt
# is not touched at all when everything is present. Run as root (or with
# sudo available). Safe to run again.
set -euo pipefail

PACKAGES=(
    # toolchain
    build-essential cmake pkg-config git ca-certificates
    # libraries promise links against
    libhts-dev libsqlite3-dev libsodium-dev zlib1g-dev
    libmicrohttpd-dev libjansson-dev libopenblas-dev liblapacke-dev
    # test oracles and tools: bcftools/tabix for VCF, plink2/plink1.9 for
    # frequencies and association, R for glm, clang for the fuzz targets
    bcftools tabix plink2 plink1.9 r-base-core clang libclang-rt-14-dev
    python3 procps sqlite3
    # the HTTP tests: curl against `promise serve`, Beacon schema validation
    curl python3-jsonschema
    # cis-QTL oracle, HTTP load benchmark, and the browser UI tests
    # (Debian's chromium driven by playwright-core from npm)
    qtltools wrk chromium
)
# Node.js and npm build the browser UI. A machine may already carry a newer
# Node.js from elsewhere (with its own npm); only fall back to Debian's pair
# when there is no npm at all, since Debian's npm conflicts with those.
if ! command -v npm >/dev/null 2>&1; then
    PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#PACKAGES[@]} packages present"
    exit 0
fi

SUDO=
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
