#!/usr/bin/env bash
# Builds jkvm's Debian guest image from Debian packages and caches it in
#   ${XDG_CACHE_HOME:-$HOME/.cache}/jkvm/images/debian-cloud/
#     vmlinuz             the kernel of linux-image-cloud-amd64 (the real linux-image-<release>-cloud-amd64 package)
#     initramfs.cpio.gz   busybox-static + the kernel's virtio modules + /init (prints JKVM-INIT-OK)
#     versions            what it was built from
#
# Usage: scripts/guest-images.sh [--force] [--print-dir] [--help]
#
# Needs apt-get, apt-cache, dpkg-deb, cpio and gzip (a Debian or Ubuntu host; packages come from its apt sources).
# No root is needed when the apt package lists exist: `apt-get download` works unprivileged. As root, with no
# lists, it runs `apt-get update` itself (CI on a fresh machine). Idempotent: when the stamp matches the package
# versions, nothing is downloaded or rebuilt. See docs/guests.md.
set -euo pipefail

# Bump when the archive's layout or /init changes, so cached images are rebuilt.
FORMAT=3
META_PKG=linux-image-cloud-amd64
BUSYBOX_PKG=busybox-static
# Module names as the kernel spells them (modules.dep file names with '-' -> '_'), in load order.
WANTED_MODULES=(virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
                virtio_blk failover net_failover virtio_net virtio_console virtio_rng virtio_balloon
                vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport
                pvpanic pvpanic_mmio)

CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/jkvm/images/debian-cloud"

die() { echo "guest-images: $*" >&2; exit 1; }
log() { echo "guest-images: $*" >&2; }

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

force=0
for arg in "$@"; do
    case "$arg" in
        --print-dir) echo "$CACHE_DIR"; exit 0 ;;
        --force) force=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $arg" ;;
    esac
done

for tool in apt-get apt-cache dpkg-deb cpio gzip find sort; do
    command -v "$tool" >/dev/null || die "'$tool' is missing (this script needs a Debian/Ubuntu host; cpio: apt-get install cpio)"
done

candidate() {   # candidate version of a package, empty when apt knows none
    apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

# --- package lists -------------------------------------------------------------------------------------------
if [[ -z "$(candidate "$META_PKG")" || -z "$(candidate "$BUSYBOX_PKG")" ]]; then
    if [[ $(id -u) -eq 0 ]]; then
        log "no apt candidate for $META_PKG/$BUSYBOX_PKG; running apt-get update"
        apt-get update -qq >&2 || die "apt-get update failed"
    else
        die "apt knows no candidate for $META_PKG or $BUSYBOX_PKG: the package lists are missing or stale.
Run:  sudo apt-get update
(on a non-Debian apt source, e.g. Ubuntu, $META_PKG may not exist: this script expects Debian's archive)"
    fi
    [[ -n "$(candidate "$META_PKG")" ]] || die "no $META_PKG in the apt sources (Debian main, amd64 expected)"
    [[ -n "$(candidate "$BUSYBOX_PKG")" ]] || die "no $BUSYBOX_PKG in the apt sources"
fi

meta_ver=$(candidate "$META_PKG")
# The metapackage depends on exactly one linux-image-<release>-cloud-amd64: that one holds the kernel.
kernel_pkg=$(apt-cache depends "$META_PKG=$meta_ver" 2>/dev/null \
             | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-cloud-amd64(-unsigned)?$/ { print $2; exit }')
[[ -n "$kernel_pkg" ]] || die "cannot resolve $META_PKG $meta_ver to a linux-image-<release>-cloud-amd64 package"
kernel_ver=$(candidate "$kernel_pkg")
[[ -n "$kernel_ver" ]] || die "no candidate for $kernel_pkg"
busybox_ver=$(candidate "$BUSYBOX_PKG")
kernel_release=${kernel_pkg#linux-image-}
kernel_release=${kernel_release%-unsigned}

stamp="format=$FORMAT
$META_PKG=$meta_ver
$kernel_pkg=$kernel_ver
$BUSYBOX_PKG=$busybox_ver
modules=${WANTED_MODULES[*]}"

if [[ $force -eq 0 && -f "$CACHE_DIR/.stamp" && -f "$CACHE_DIR/vmlinuz" && -f "$CACHE_DIR/initramfs.cpio.gz" \
      && -f "$CACHE_DIR/versions" && "$(cat "$CACHE_DIR/.stamp")" == "$stamp" ]]; then
    log "up to date: $CACHE_DIR ($kernel_pkg $kernel_ver, $BUSYBOX_PKG $busybox_ver)"
    exit 0
fi

# --- download and unpack -------------------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/jkvm-guest-images.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "downloading $kernel_pkg $kernel_ver and $BUSYBOX_PKG $busybox_ver"
sandbox=(); [[ $(id -u) -eq 0 ]] && sandbox=(-o APT::Sandbox::User=root)  # _apt cannot write to $work
(cd "$work" && apt-get download -q "${sandbox[@]}" "$kernel_pkg=$kernel_ver" "$BUSYBOX_PKG=$busybox_ver" >&2) \
    || die "apt-get download failed"
dpkg-deb -x "$work"/"${kernel_pkg}"_*.deb "$work/kernel"
dpkg-deb -x "$work"/"${BUSYBOX_PKG}"_*.deb "$work/busybox"

vmlinuz="$work/kernel/boot/vmlinuz-$kernel_release"
moddir="$work/kernel/lib/modules/$kernel_release"
[[ -f "$vmlinuz" ]] || die "no boot/vmlinuz-$kernel_release in $kernel_pkg"
[[ -d "$moddir/kernel" ]] || die "no lib/modules/$kernel_release/kernel/ in $kernel_pkg"
busybox_bin="$work/busybox/bin/busybox"
[[ -x "$busybox_bin" ]] || die "no bin/busybox in $BUSYBOX_PKG"

# --- initramfs tree --------------------------------------------------------------------------------------------
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc/jkvm,run}
cp "$busybox_bin" "$root/bin/busybox"
# Applet links, relative so they resolve inside the guest: bin/sh -> busybox, usr/sbin/x -> ../../bin/busybox.
"$root/bin/busybox" --list-full | while read -r applet; do
    [[ -z "$applet" || "$applet" == bin/busybox || -e "$root/$applet" ]] && continue
    mkdir -p "$root/$(dirname "$applet")"
    up=$(dirname "$applet" | sed 's|[^/]*|..|g')
    ln -s "$up/bin/busybox" "$root/$applet"
done
[[ -L "$root/bin/sh" ]] || die "busybox --list-full did not list bin/sh"

modname() { local b=${1##*/}; b=${b%%.ko*}; echo "${b//-/_}"; }

# Debian ships no modules.dep (depmod runs in postinst), and depmod may not be installed: read each module's
# dependencies from its .modinfo strings ("depends=a,b") instead, and write a modules.dep for the archive.
declare -A mod_path=()      # name -> path relative to $moddir
while IFS= read -r path; do
    mod_path[$(modname "$path")]=$path
done < <(cd "$moddir" && find kernel -name '*.ko*' | LC_ALL=C sort)
declare -A builtin=()
if [[ -f "$moddir/modules.builtin" ]]; then
    while IFS= read -r path; do builtin[$(modname "$path")]=1; done < "$moddir/modules.builtin"
fi

module_bytes() {            # the uncompressed module file on stdout
    local f="$moddir/$1"
    case "$f" in
        *.ko) cat "$f" ;;
        *.ko.xz) command -v xz >/dev/null || die "xz needed to unpack $1"; xz -dc "$f" ;;
        *.ko.zst) command -v zstd >/dev/null || die "zstd needed to unpack $1"; zstd -qdc "$f" ;;
        *.ko.gz) gzip -dc "$f" ;;
        *) die "unexpected module file $1" ;;
    esac
}
module_depends() {          # dependency names of module $1, space separated
    module_bytes "${mod_path[$1]}" | tr '\0' '\n' \
        | awk -F= '$1 == "depends" && !done { gsub(",", " ", $2); print $2; done = 1 }'
}

declare -A visited=() deps_of=()
closure=()                  # post-order: dependencies before dependents
visit() {
    local m=$1 d
    [[ -n "${visited[$m]:-}" ]] && return 0
    visited[$m]=1
    [[ -n "${mod_path[$m]:-}" ]] || die "module $m (a dependency) not found in $kernel_pkg"
    [[ -n "${deps_of[$m]+set}" ]] || deps_of[$m]=$(module_depends "$m")
    for d in ${deps_of[$m]}; do visit "$d"; done
    closure+=("$m")
}

load=()                     # names /init modprobes, in order
builtins=()
missing=()
declare -A dep_entry=()     # name -> "path: dependency paths, the one to load first last" (modules.dep format)
for m in "${WANTED_MODULES[@]}"; do
    if [[ -n "${builtin[$m]:-}" ]]; then
        builtins+=("$m")
    elif [[ -n "${mod_path[$m]:-}" ]]; then
        load+=("$m")
        visit "$m"
    else
        missing+=("$m")
    fi
done
[[ ${#missing[@]} -eq 0 ]] || log "warning: neither module nor built-in in $kernel_release: ${missing[*]}"

kmods="$root/lib/modules/$kernel_release"
mkdir -p "$kmods"
# Per module: its own dependency closure, by a fresh walk, reversed into modules.dep order.
for m in "${closure[@]}"; do
    visited=(); saved=("${closure[@]}"); closure=()
    visit "$m"
    line="${mod_path[$m]%%.ko*}.ko:"
    for ((i = ${#closure[@]} - 2; i >= 0; i--)); do
        p=${mod_path[${closure[$i]}]}; p="${p%%.ko*}.ko"
        line+=" $p"
    done
    dep_entry[$m]=$line
    closure=("${saved[@]}")
done
: > "$kmods/modules.dep"
for m in "${closure[@]}"; do
    path=${mod_path[$m]}
    mkdir -p "$kmods/$(dirname "$path")"
    module_bytes "$path" > "$kmods/${path%%.ko*}.ko"     # stored uncompressed: busybox modprobe may not inflate
    echo "${dep_entry[$m]}" >> "$kmods/modules.dep"
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
    [[ -f "$moddir/$f" ]] && cp "$moddir/$f" "$kmods/$f"
done
printf '%s\n' "${load[@]}" > "$root/etc/jkvm/modules"

cat > "$root/init" <<'EOF'
#!/bin/sh
# jkvm initramfs /init (busybox sh), written by scripts/guest-images.sh. See docs/guests.md.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
for m in $(cat /etc/jkvm/modules); do
    modprobe "$m" || echo "jkvm-init: modprobe $m failed"
done
echo JKVM-INIT-OK
if [ -f /jkvm-test.sh ]; then
    if [ -x /jkvm-test.sh ]; then /jkvm-test.sh; else sh /jkvm-test.sh; fi
    rc=$?
    echo "JKVM-TEST-EXIT=$rc"
    sync
    poweroff -f
fi
setsid cttyhack sh
poweroff -f
EOF
chmod 755 "$root/init"

# Deterministic archive: sorted names, owner root, fixed mtimes, gzip without name/time.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -n -9 > "$work/initramfs.cpio.gz"

cat > "$work/versions" <<EOF
# jkvm Debian guest image, built by scripts/guest-images.sh (format $FORMAT)
source: Debian packages via apt ($(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown host}"))
metapackage: $META_PKG $meta_ver
kernel: $kernel_pkg $kernel_ver
kernel_release: $kernel_release
busybox: $BUSYBOX_PKG $busybox_ver
modules_loaded: ${load[*]:-}
modules_builtin: ${builtins[*]:-}
modules_missing: ${missing[*]:-}
vmlinuz_sha256: $(sha256sum "$vmlinuz" | cut -d' ' -f1)
initramfs_sha256: $(sha256sum "$work/initramfs.cpio.gz" | cut -d' ' -f1)
EOF

# --- install into the cache (each file replaced atomically) -------------------------------------------------
mkdir -p "$CACHE_DIR"
rm -f "$CACHE_DIR/.stamp"
for f in vmlinuz initramfs.cpio.gz versions; do
    src="$work/$f"; [[ $f == vmlinuz ]] && src="$vmlinuz"
    cp "$src" "$CACHE_DIR/.$f.tmp" && mv -f "$CACHE_DIR/.$f.tmp" "$CACHE_DIR/$f"
done
echo "$stamp" > "$CACHE_DIR/.stamp"
log "built $CACHE_DIR: $kernel_pkg $kernel_ver; modules: ${load[*]:-none}; built-in: ${builtins[*]:-none}"
