#!/usr/bin/env bash
# Build the tiny QEMU guest the libvirt driver's QEMU tests boot under TCG:
#   - the Debian cloud kernel (the package linux-image-cloud-amd64 depends on), apt-get download + dpkg -x
#   - a busybox initramfs with the virtio modules (and their dependencies read from each module's
#     .modinfo), an ACPI power-button hook, and an init that prints markers on the serial console
#     and reports block/net devices appearing and disappearing; on request (kernel arguments) it
#     puts itself to sleep (nova.sleep=N: suspend to RAM N s after READY, libvirt's PMSUSPENDED) or
#     powers itself off (nova.poweroff=N), so tests can watch transitions no caller asked for, or
#     prints N KiB to its console (nova.fill=N, then FILLED) so tests can see the console log's cap;
#     it reports each disk's size and each NIC's MAC and MTU as it sees them, and a disk's new size when it grows
#   - a small raw "image" file the driver copies as each instance's root disk
# Output (readable by libvirt-qemu): /var/lib/libvirt/images/nova-common/{guest/vmlinuz,guest/initrd.img,images/nova-common-guest.raw}
# Idempotent and cached: rebuilds only when the output is missing or this script changed.
set -euo pipefail

OUT_ROOT="${NOVA_GUEST_DIR:-/var/lib/libvirt/images/nova-common}"
OUT="$OUT_ROOT/guest"
IMAGES="$OUT_ROOT/images"
WORK=/tmp/nova-common/guest-build
APT_STAMP=/tmp/nova-common/apt-updated.stamp
SELF_HASH="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
MODULES=(virtio_pci virtio_blk virtio_net button evdev)

log() { printf '[guest/build.sh] %s\n' "$*" >&2; }

if [[ -f "$OUT/vmlinuz" && -f "$OUT/initrd.img" && -f "$IMAGES/nova-common-guest.raw" && "$(cat "$OUT/.stamp" 2>/dev/null)" == "$SELF_HASH" ]]; then
  log "guest is up to date in $OUT"
  exit 0
fi

for tool in busybox apt-get dpkg; do
  command -v "$tool" >/dev/null || { log "missing $tool (install busybox-static)"; exit 1; }
done

rm -rf "$WORK"
mkdir -p "$WORK" "$OUT" "$IMAGES"
cd "$WORK"

pkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')"
if [[ -z "$pkg" ]]; then
  mkdir -p "$(dirname "$APT_STAMP")"
  if [[ ! -f "$APT_STAMP" ]]; then timeout 300 apt-get update -qq && touch "$APT_STAMP"; fi
  pkg="$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')"
fi
[[ -n "$pkg" ]] || { log "cannot resolve the cloud kernel package"; exit 1; }
log "kernel package: $pkg"
# apt-get download runs as _apt when it can; give it a directory it may write.
chmod 0777 "$WORK"
timeout 600 apt-get download -q "$pkg" >/dev/null 2>&1 || timeout 600 apt-get download "$pkg"
dpkg -x ./"$pkg"_*.deb kernel
kver="$(ls kernel/lib/modules | head -n 1)"
moddir="kernel/lib/modules/$kver"

# Resolve module dependencies from each .ko's .modinfo "depends=" field.
declare -A seen=()
order=()
find_ko() { find "$moddir/kernel" -name "$1.ko" -print -quit; }
add_module() {
  local name="$1" ko deps d
  [[ -n "${seen[$name]:-}" ]] && return 0
  seen[$name]=1
  ko="$(find_ko "$name")"
  if [[ -z "$ko" ]]; then
    if grep -q "/$name.ko$" "$moddir/modules.builtin" 2>/dev/null; then return 0; fi
    log "module $name not found"; exit 1
  fi
  deps="$(tr '\0' '\n' <"$ko" | grep -a '^depends=' | head -n 1 | cut -d= -f2)"
  IFS=',' read -r -a dl <<<"$deps"
  for d in "${dl[@]}"; do [[ -n "$d" ]] && add_module "$d"; done
  order+=("$name")
}
for m in "${MODULES[@]}"; do add_module "$m"; done
log "modules (load order): ${order[*]}"

root="$WORK/initramfs"
mkdir -p "$root"/{bin,dev,proc,sys,etc/acpi/PWRF,lib/modules,run,tmp}
cp "$(command -v busybox)" "$root/bin/busybox"
for m in "${order[@]}"; do cp "$(find_ko "$m")" "$root/lib/modules/$m.ko"; done
printf '%s\n' "${order[@]}" >"$root/lib/modules/load-order"

# busybox acpid runs /etc/acpi/PWRF/* on the power button (event "PWRF").
cat >"$root/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
echo "NOVA-GUEST: ACPI-POWEROFF" >/dev/console
/bin/busybox poweroff -f
EOF
chmod +x "$root/etc/acpi/PWRF/00000080"

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec >/dev/console 2>&1
for m in $(cat /lib/modules/load-order); do insmod /lib/modules/$m.ko 2>/dev/null; done
echo "NOVA-GUEST: BOOTED kernel=$(uname -r)"
acpid -c /etc/acpi -l /tmp/acpid.log
list_block() { ls /sys/block 2>/dev/null | tr '\n' ' '; }
list_net() { ls /sys/class/net 2>/dev/null | grep -v '^lo$' | tr '\n' ' '; }
list_sizes() { for d in $(list_block); do echo "$d:$(cat /sys/block/$d/size 2>/dev/null)"; done | tr '\n' ' '; }
# What the guest sees of a new device: a disk's size in 512-byte sectors; a NIC's MAC and MTU
# (the NIC is brought up, so a bridge it is on learns its MAC from the kernel's first packets).
facts() {
  case $1 in
    BLOCK) echo " sectors=$(cat /sys/block/$2/size 2>/dev/null)" ;;
    NET) ip link set "$2" up 2>/dev/null; echo " mac=$(cat /sys/class/net/$2/address 2>/dev/null) mtu=$(cat /sys/class/net/$2/mtu 2>/dev/null)" ;;
  esac
}
report() {
  kind=$1; before=$2; after=$3
  for d in $after; do case " $before " in *" $d "*) ;; *) echo "NOVA-GUEST: $kind+ $d$(facts $kind $d)";; esac; done
  for d in $before; do case " $after " in *" $d "*) ;; *) echo "NOVA-GUEST: $kind- $d";; esac; done
}
blk=""; net=""
report BLOCK "" "$(list_block)"; blk="$(list_block)"
report NET "" "$(list_net)"; net="$(list_net)"
sz="$(list_sizes)"
echo "NOVA-GUEST: READY"
for arg in $(cat /proc/cmdline); do
  case $arg in
    nova.sleep=*) (sleep "${arg#nova.sleep=}"; echo "NOVA-GUEST: SLEEPING"; echo mem >/sys/power/state; echo "NOVA-GUEST: WOKE") & ;;
    nova.poweroff=*) (sleep "${arg#nova.poweroff=}"; echo "NOVA-GUEST: SELF-POWEROFF"; poweroff -f) & ;;
    nova.fill=*) (n=0; line="NOVA-GUEST: FILL $(printf '%0100d' 0)"; while [ $n -lt "${arg#nova.fill=}" ]; do
        i=0; while [ $i -lt 8 ]; do echo "$line $n $i"; i=$((i+1)); done; n=$((n+1)); done; echo "NOVA-GUEST: FILLED") & ;;
  esac
done
while true; do
  b="$(list_block)"; n="$(list_net)"
  [ "$b" != "$blk" ] && report BLOCK "$blk" "$b" && blk="$b"
  [ "$n" != "$net" ] && report NET "$net" "$n" && net="$n"
  # A disk that was there and changed size (an extended volume): its new size in sectors.
  s="$(list_sizes)"
  if [ "$s" != "$sz" ]; then
    for e in $s; do d=${e%%:*}; case " $sz " in *" $e "*) ;; *" $d:"*) echo "NOVA-GUEST: SIZE $d sectors=${e#*:}" ;; esac; done
    sz="$s"
  fi
  sleep 0.3
done
EOF
chmod +x "$root/init"

(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -9) >"$WORK/initrd.img"
install -m 0644 "kernel/boot/vmlinuz-$kver" "$OUT/vmlinuz"
install -m 0644 "$WORK/initrd.img" "$OUT/initrd.img"
# The instance root disk image: direct-boot guests never read it, but it is a real disk.
truncate -s 16M "$WORK/nova-common-guest.raw"
install -m 0644 "$WORK/nova-common-guest.raw" "$IMAGES/nova-common-guest.raw"
chmod 0755 "$OUT_ROOT" "$OUT" "$IMAGES"
echo "$SELF_HASH" >"$OUT/.stamp"
rm -rf "$WORK"
log "built $OUT/vmlinuz ($kver) and $OUT/initrd.img ($(stat -c %s "$OUT/initrd.img") bytes)"
