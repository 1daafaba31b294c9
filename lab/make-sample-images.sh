#!/usr/bin/env bash
# Makes the lab's sample images: a small raw disk with known content and the same disk as qcow2, plus SHA256SUMS.
# Deterministic for a given qemu-img, and only rebuilt when missing.
set -euo pipefail
out=$1
mkdir -p "$out"
[ -f "$out/SHA256SUMS" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
truncate -s 16M "$tmp/sample.raw"
# Known content: a marker at the start and at 8 MiB, the rest zeros (sparse).
printf 'FERRY-SAMPLE-DISK-v1 first sector\n' | dd of="$tmp/sample.raw" conv=notrunc status=none
printf 'FERRY-SAMPLE-DISK-v1 at 8MiB\n' | dd of="$tmp/sample.raw" bs=1M seek=8 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$tmp/sample.raw" "$tmp/sample.qcow2"
mv "$tmp/sample.raw" "$tmp/sample.qcow2" "$out/"
(cd "$out" && sha256sum sample.raw sample.qcow2 > SHA256SUMS)
