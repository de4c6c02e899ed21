#!/usr/bin/env bash
# Builds the images the Docker tests and pod-startup-bench use, locally, FROM scratch (no image
# registry is reachable on our machines):
#   kube-test/busybox:latest  Debian's static busybox (sh, httpd, nc, sleep, wget)
#   kube-test/pause:latest    busybox that sleeps and exits 0 at once on SIGTERM (infra image)
#   dockerfile/redis:latest   Debian's redis-server and its libraries (the seed's image name)
# Each image carries a label with a hash of its inputs; an image whose inputs did not change
# is not rebuilt. Needs: docker (engine running), busybox-static, apt-get (for redis).
set -euo pipefail

log() { printf '== %s\n' "$*" >&2; }

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

# build NAME DIR: builds DIR's Dockerfile as NAME unless an image with the same inputs exists.
build() {
  local name=$1 dir=$2 hash have
  hash=$(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-32)
  have=$(docker image inspect --format '{{ index .Config.Labels "kube-test.inputs" }}' "$name" 2>/dev/null || true)
  if [ "$have" = "$hash" ]; then
    log "$name is up to date"
    return
  fi
  log "building $name"
  printf 'LABEL kube-test.inputs=%s\n' "$hash" >>"$dir/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$name" "$dir" >/dev/null 2>"$ctx/build.log" || {
    cat "$ctx/build.log" >&2
    exit 1
  }
}

busybox=/bin/busybox
# A static binary is "not a dynamic executable" to ldd (no pipe here: with pipefail, a
# `busybox --help | head` can fail on SIGPIPE).
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "a static busybox is needed at /bin/busybox (apt-get install busybox-static)" >&2
  exit 1
fi

mkdir -p "$ctx/busybox"
cp "$busybox" "$ctx/busybox/busybox"
cat >"$ctx/busybox/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
EOF
build kube-test/busybox:latest "$ctx/busybox"

# The pause image: PID 1 is a shell that traps SIGTERM, so a stop takes no grace period.
mkdir -p "$ctx/pause"
cp "$busybox" "$ctx/pause/busybox"
cat >"$ctx/pause/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENTRYPOINT ["/bin/sh", "-c", "trap 'exit 0' TERM INT; sleep 2147483647 & wait"]
EOF
build kube-test/pause:latest "$ctx/pause"

# redis: the binary and libraries from Debian's packages, unpacked (not installed: no service
# is started on the host).
mkdir -p "$ctx/debs" "$ctx/redis"
(cd "$ctx/debs" && apt-get download redis-tools liblzf1 libjemalloc2 >/dev/null 2>&1) || {
  apt-get update >/dev/null
  (cd "$ctx/debs" && apt-get download redis-tools liblzf1 libjemalloc2 >/dev/null)
}
for deb in "$ctx"/debs/*.deb; do dpkg-deb -x "$deb" "$ctx/debs/root"; done
root="$ctx/debs/root"
mkdir -p "$ctx/redis/usr/bin"
cp "$root/usr/bin/redis-check-rdb" "$ctx/redis/usr/bin/redis-server"
# Every library the binary needs, at the path the loader finds it, plus the loader itself.
LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu" ldd "$ctx/redis/usr/bin/redis-server" |
  awk '/=>/ { print $3 } $1 ~ /^\/lib64\// { print $1 }' | while read -r lib; do
  [ -n "$lib" ] || continue
  case "$lib" in
    "$root"/*) dest="/usr/lib/x86_64-linux-gnu/$(basename "$lib")" ;;
    *) dest="$lib" ;;
  esac
  mkdir -p "$ctx/redis$(dirname "$dest")"
  cp -L "$lib" "$ctx/redis$dest"
done
cat >"$ctx/redis/Dockerfile" <<'EOF'
FROM scratch
COPY usr /usr
COPY lib /lib
COPY lib64 /lib64
EXPOSE 6379
ENTRYPOINT ["/usr/bin/redis-server", "--protected-mode", "no", "--bind", "0.0.0.0", "--save", ""]
EOF
build dockerfile/redis:latest "$ctx/redis"
