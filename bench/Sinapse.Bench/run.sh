#!/usr/bin/env bash
# Builds and runs the benchmarks:
#   bench/Sinapse.Bench/run.sh <suite>... [--isa native|avx2] [--json FILE] [--reps N]
#
# --isa avx2 restricts both sides to AVX2, as on most laptops: .NET through DOTNET_EnableAVX512=0
# (.NET 10's name; .NET 8 and 9 read DOTNET_EnableAVX512F, set too), libtorch through
# ATEN_CPU_CAPABILITY=avx2 and MKL_ENABLE_INSTRUCTIONS=AVX2, and its oneDNN convolutions through
# DNNL_MAX_CPU_ISA=AVX2 (they pick their ISA themselves). ONNX Runtime has no such switch and stays native.
# The ISA is passed on to the bench, which records it beside every result.
#
# Why a script: TorchSharp 0.107's libLibTorchSharp.so needs libstdc++ with GLIBCXX_3.4.32
# (GCC 13 or newer); Debian 12 ships 3.4.30, so `dotnet run` fails there while loading libtorch.
# On such a machine this script borrows libc6, libstdc++6 and libgcc-s1 from Debian 13 into
# obj/ (downloaded once with apt-get, from the Debian archive the system's own package sources
# name, into a private state folder; nothing on the system changes) and starts the bench's
# apphost through that glibc's own loader.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

isa=native
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --isa) isa="${2:?--isa needs native or avx2}"; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
case "$isa" in
    native) ;;
    avx2) export DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0 ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 DNNL_MAX_CPU_ISA=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 ;;
    *) echo "run.sh: --isa expects native or avx2, found '$isa'" >&2; exit 2 ;;
esac
args+=(--isa "$isa")

dotnet build "$here" -c Release -nologo -v quiet >&2
bin="$here/bin/Release/net10.0"

if grep -qa GLIBCXX_3.4.32 /lib/x86_64-linux-gnu/libstdc++.so.6; then
    exec "$bin/Sinapse.Bench" "${args[@]}"
fi

# Installs a system package, refreshing the package lists first when apt does not know it yet.
install_package() {
    apt-cache show "$1" >/dev/null 2>&1 || apt-get update -qq >&2
    apt-get install -y -qq "$1" >&2
}

runtime="$here/obj/debian13-runtime"
lib="$runtime/root/usr/lib/x86_64-linux-gnu"
no_runtime="run.sh: libLibTorchSharp needs libstdc++ with GLIBCXX_3.4.32: install libstdc++6 from GCC 13 or newer (Debian 13, Ubuntu 24.04) and run again"
if [ ! -e "$lib/libstdc++.so.6" ] || [ ! -e "$lib/ld-linux-x86-64.so.2" ]; then
    # The Debian archive this system already uses (a mirror or proxy keeps working), at release 13.
    archive=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' 2>/dev/null \
        | awk '$2 !~ /-/ && $1 ~ /debian\/?$/ { print $1; exit }')
    if [ -z "$archive" ]; then echo "$no_runtime" >&2; exit 2; fi
    echo "libstdc++ here lacks GLIBCXX_3.4.32: fetching Debian 13's runtime from $archive into $runtime (once)" >&2
    mkdir -p "$runtime/state/lists/partial" "$runtime/cache/archives/partial" "$runtime/debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${archive%/} trixie main" > "$runtime/sources.list"
    apt_options=(-o Dir::Etc::SourceList="$runtime/sources.list" -o Dir::Etc::SourceParts=/dev/null
                 -o Dir::State="$runtime/state" -o Dir::State::status=/var/lib/dpkg/status
                 -o Dir::Cache="$runtime/cache" -o APT::Sandbox::User=root)
    if ! apt-get "${apt_options[@]}" update -qq \
        || ! (cd "$runtime/debs" && apt-get "${apt_options[@]}" download -qq libc6 libstdc++6 libgcc-s1); then
        echo "$no_runtime" >&2; exit 2
    fi
    for deb in "$runtime"/debs/*.deb; do dpkg -x "$deb" "$runtime/root"; done
fi
command -v patchelf >/dev/null || install_package patchelf

# The apphost finds Sinapse.Bench.dll beside itself, so the patched copy lives in bin/.
cp "$bin/Sinapse.Bench" "$bin/Sinapse.Bench.debian13"
patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" "$bin/Sinapse.Bench.debian13"
LD_LIBRARY_PATH="$lib" exec "$bin/Sinapse.Bench.debian13" "${args[@]}"
