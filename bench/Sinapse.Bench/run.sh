#!/usr/bin/env bash
# Builds and runs the benchmarks: bench/Sinapse.Bench/run.sh <suite>... [--json FILE] [--reps N]
#
# Why a script: TorchSharp 0.107's libLibTorchSharp.so needs libstdc++ with GLIBCXX_3.4.32
# (GCC 13 or newer); Debian 12 ships 3.4.30, so `dotnet run` fails there while loading libtorch.
# On such a machine this script borrows libc6, libstdc++6 and libgcc-s1 from Debian 13 into
# obj/ (downloaded once with apt-get into a private state folder; nothing on the system
# changes) and starts the bench's apphost through that glibc's own loader.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dotnet build "$here" -c Release -nologo -v quiet >&2
bin="$here/bin/Release/net10.0"

if grep -qa GLIBCXX_3.4.32 /lib/x86_64-linux-gnu/libstdc++.so.6; then
    exec "$bin/Sinapse.Bench" "$@"
fi

runtime="$here/obj/debian13-runtime"
lib="$runtime/root/usr/lib/x86_64-linux-gnu"
if [ ! -e "$lib/libstdc++.so.6" ] || [ ! -e "$lib/ld-linux-x86-64.so.2" ]; then
    echo "libstdc++ here lacks GLIBCXX_3.4.32: fetching Debian 13's runtime into $runtime (once)" >&2
    mkdir -p "$runtime/state/lists/partial" "$runtime/cache/archives/partial" "$runtime/debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        > "$runtime/sources.list"
    apt_options=(-o Dir::Etc::SourceList="$runtime/sources.list" -o Dir::Etc::SourceParts=/dev/null
                 -o Dir::State="$runtime/state" -o Dir::State::status=/var/lib/dpkg/status
                 -o Dir::Cache="$runtime/cache" -o APT::Sandbox::User=root)
    apt-get "${apt_options[@]}" update -qq
    (cd "$runtime/debs" && apt-get "${apt_options[@]}" download -qq libc6 libstdc++6 libgcc-s1)
    for deb in "$runtime"/debs/*.deb; do dpkg -x "$deb" "$runtime/root"; done
fi
command -v patchelf >/dev/null || apt-get install -y -qq patchelf >&2

# The apphost finds Sinapse.Bench.dll beside itself, so the patched copy lives in bin/.
cp "$bin/Sinapse.Bench" "$bin/Sinapse.Bench.debian13"
patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" "$bin/Sinapse.Bench.debian13"
LD_LIBRARY_PATH="$lib" exec "$bin/Sinapse.Bench.debian13" "$@"
