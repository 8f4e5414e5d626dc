# shellcheck shell=bash
# shellcheck disable=SC2034 # variables set here are read by the tests
# The harness every integration test sources first:
#
#   #!/usr/bin/env bash
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   setup_busybox
#   assert_status 0 berth run --rm busybox true
#   finish
#
# It re-executes the test inside private mount, network and pid namespaces
# (nothing the test does reaches the host's mounts, links, rules or
# processes; when the test ends the kernel kills whatever it left), makes a
# temporary directory $T holding --root ($T/root) and --runroot ($T/run), and
# at the end (finish) checks that the test left nothing: no mount under $T and
# no overlay mount in the test's namespace, no process, no container entry in
# the run dir, no container in the store or in a storage driver's state.
#
# Environment (scripts/test.sh sets all of it; defaults suit a dev tree):
#   BERTH                  the berth binary              (default: build/berth)
#   BERTH_PLUGIN_DIR       the plugins of that build     (default: dir of berth/plugins)
#   BERTH_TEST_PLUGIN_DIR  where test-fault.so is        (default: BERTH_PLUGIN_DIR)
#   BERTH_BAD_PLUGIN_DIR   the refused-ABI fixtures      (default: dir of berth/bad-plugins)
#   BERTH_PREFIX           an install prefix (cmake --install), for SDK tests
#   BERTH_TEST_CACHE       where the busybox rootfs tarball is cached (default: $T/cache)
#   BERTH_TEST_KEEP=1      keep $T afterwards (its path is printed)
set -euo pipefail

BERTH_TEST_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if [[ -z ${BERTH_TEST_IN_NS:-} ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "$0: integration tests run as root (they make namespaces and mounts)" >&2
        exit 1
    fi
    export BERTH=${BERTH:-$BERTH_TEST_TOP/build/berth}
    BERTH=$(readlink -f "$BERTH")
    export BERTH_PLUGIN_DIR=${BERTH_PLUGIN_DIR:-$(dirname "$BERTH")/plugins}
    export BERTH_TEST_PLUGIN_DIR=${BERTH_TEST_PLUGIN_DIR:-$BERTH_PLUGIN_DIR}
    export BERTH_BAD_PLUGIN_DIR=${BERTH_BAD_PLUGIN_DIR:-$(dirname "$BERTH")/bad-plugins}
    if [[ ! -x $BERTH ]]; then
        echo "$0: no berth binary at '$BERTH' (set BERTH)" >&2
        exit 1
    fi
    export BERTH_TEST_IN_NS=1
    # Named here, with this host pid, so that the cgroups of a test that was
    # killed (a timeout: its own cleanup never ran) are removed below.
    export CG_NAME="berth-test-$$-$RANDOM"
    # --kill-child: if unshare dies (timeout), the test's pid 1 dies and the
    # kernel kills everything in its pid namespace.
    set +e
    unshare --mount --net --pid --fork --kill-child --mount-proc --propagation private \
        -- bash "$0" "$@"
    rc=$?
    set -e
    for d in /sys/fs/cgroup/*/"$CG_NAME" /sys/fs/cgroup/"$CG_NAME"; do
        if [[ -d $d ]]; then
            find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
        fi
    done
    # The test's own cgroups sit below the caller's: look there too.
    while IFS= read -r d; do
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done < <(find /sys/fs/cgroup -maxdepth 6 -type d -name "$CG_NAME" 2>/dev/null)
    exit "$rc"
fi

# --- inside the test's namespaces ------------------------------------------

TEST_NAME=$(basename "$0" .sh)
N_FAIL=0
N_OK=0
FINISHED=0

ip link set lo up 2>/dev/null || true

T=$(mktemp -d "${TMPDIR:-/tmp}/berth-it.XXXXXX")
export T
CACHE=${BERTH_TEST_CACHE:-$T/cache}
mkdir -p "$T/root" "$T/run" "$CACHE"
# Overlay upper and work dirs need a filesystem with d_type and xattrs; the
# one $T is on serves, as /var/lib/berth would in production.

PLUGIN_PATH=$BERTH_PLUGIN_DIR
if [[ $(readlink -f "$BERTH_TEST_PLUGIN_DIR") != $(readlink -f "$BERTH_PLUGIN_DIR") ]]; then
    PLUGIN_PATH="$BERTH_PLUGIN_DIR:$BERTH_TEST_PLUGIN_DIR"
fi

# The command under test, always with the test's own stores.
berth() {
    "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" "$@"
}

# The overlay driver's state dir (DESIGN: $ROOT/plugins/NAME).
OVERLAY_STATE="$T/root/plugins/overlay"

# --- the test's own cgroup -----------------------------------------------------
# Every test moves itself into a cgroup of its own (one per v1 controller, or
# one on v2), so that the containers' cgroups (berth's own cgroup + /berth by
# default) are made under the test's and nothing lands beside other tests'.

CG_MODE=v1
[[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]] && CG_MODE=v2
declare -A CG_DIR=() CG_ORIG=()

own_cgroup() { # own_cgroup CONTROLLER (v2: "") → path as /proc/self/cgroup says
    awk -F: -v c="$1" '
        c == "" && $1 == "0" && $2 == "" { print $3; exit }
        c != "" { n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) { print $3; exit } }
    ' /proc/self/cgroup
}

if [[ $CG_MODE == v2 ]]; then
    CONTROLLERS=(unified)
else
    CONTROLLERS=(memory pids cpu cpuacct blkio freezer cpuset devices)
fi
for c in "${CONTROLLERS[@]}"; do
    if [[ $c == unified ]]; then mnt=/sys/fs/cgroup own=$(own_cgroup ""); else
        mnt=/sys/fs/cgroup/$c own=$(own_cgroup "$c")
    fi
    [[ -d $mnt && -n $own ]] || continue
    CG_ORIG[$c]="$mnt${own%/}"
    CG_DIR[$c]="$mnt${own%/}/$CG_NAME"
    mkdir -p "${CG_DIR[$c]}"
    if [[ $c == cpuset ]]; then
        cat "${CG_ORIG[$c]}/cpuset.cpus" >"${CG_DIR[$c]}/cpuset.cpus"
        cat "${CG_ORIG[$c]}/cpuset.mems" >"${CG_DIR[$c]}/cpuset.mems"
    fi
done
join_cgroups() { # join_cgroups orig|test : moves this shell
    local c
    for c in "${!CG_DIR[@]}"; do
        if [[ $1 == test ]]; then echo $$ >"${CG_DIR[$c]}/cgroup.procs"; else
            echo $$ >"${CG_ORIG[$c]}/cgroup.procs" 2>/dev/null || true
        fi
    done
}
cg_cleanup() {
    local c
    join_cgroups orig
    for c in "${!CG_DIR[@]}"; do
        find "${CG_DIR[$c]}" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
        rmdir "${CG_DIR[$c]}" 2>/dev/null || true
    done
}
leaked_cgroups() {
    local c
    for c in "${!CG_DIR[@]}"; do
        find "${CG_DIR[$c]}" -mindepth 1 -type d 2>/dev/null
    done
    return 0
}
join_cgroups test

_unmount_under_t() {
    local mp
    # Deepest first; only in this private namespace.
    while read -r mp; do
        umount -l -- "$mp" 2>/dev/null || true
    done < <(awk -v t="$T" '$5 == t || index($5, t "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r)
}

_on_exit() {
    local rc=$?
    set +e
    if [[ $FINISHED -eq 0 ]]; then
        echo "not ok - $TEST_NAME aborted (exit $rc) before finish" >&2
        [[ $rc -eq 0 ]] && rc=1
    fi
    _unmount_under_t
    cg_cleanup
    if [[ ${BERTH_TEST_KEEP:-0} == 1 ]]; then
        echo "# kept $T" >&2
    else
        rm -rf --one-file-system -- "$T"
    fi
    exit "$rc"
}
trap _on_exit EXIT
trap 'echo "# line $LINENO: command failed (exit $?): $BASH_COMMAND" >&2' ERR

# --- reporting and assertions ----------------------------------------------

# Every assertion prints one "ok"/"not ok" line, sets ASSERT_OK (1/0) and
# returns 0, so that a failed check never aborts the test under set -e:
#   assert_status 0 berth run --rm busybox true; [[ $ASSERT_OK == 1 ]] || …
ASSERT_OK=1

ok() {
    ASSERT_OK=1
    N_OK=$((N_OK + 1))
    printf 'ok - %s\n' "$*"
}

fail() {
    ASSERT_OK=0
    N_FAIL=$((N_FAIL + 1))
    printf 'not ok - %s\n' "$*"
}

# Stops the test now (a failure that makes the rest meaningless).
die() {
    fail "$*"
    finish
}

note() {
    printf '# %s\n' "$*"
}

# capture CMD… : runs CMD with stdin from /dev/null; sets OUT, ERR and RC.
capture() {
    local o e
    o=$(mktemp "$T/out.XXXXXX")
    e=$(mktemp "$T/err.XXXXXX")
    set +e
    "$@" >"$o" 2>"$e" </dev/null
    RC=$?
    set -e
    OUT=$(<"$o")
    ERR=$(<"$e")
    rm -f -- "$o" "$e"
}

# Shows what a failed command printed.
_show() {
    [[ -n ${OUT:-} ]] && printf '#   stdout: %s\n' "${OUT//$'\n'/$'\n#           '}"
    [[ -n ${ERR:-} ]] && printf '#   stderr: %s\n' "${ERR//$'\n'/$'\n#           '}"
    return 0
}

# assert_status EXPECTED CMD… : runs CMD (capture) and checks its exit status.
assert_status() {
    local want=$1
    shift
    capture "$@"
    if [[ $RC -eq $want ]]; then
        ok "exit $want: $*"
        return 0
    fi
    fail "exit $RC, expected $want: $*"
    _show
    return 0
}

# assert_eq EXPECTED ACTUAL MESSAGE
assert_eq() {
    if [[ $1 == "$2" ]]; then
        ok "$3"
        return 0
    fi
    fail "$3"
    printf '#   expected: %q\n#   actual:   %q\n' "$1" "$2"
    return 0
}

# assert_contains HAYSTACK NEEDLE MESSAGE
assert_contains() {
    if [[ $1 == *"$2"* ]]; then
        ok "$3"
        return 0
    fi
    fail "$3"
    printf '#   %q does not contain %q\n' "$1" "$2"
    return 0
}

# assert_not_contains HAYSTACK NEEDLE MESSAGE
assert_not_contains() {
    if [[ $1 != *"$2"* ]]; then
        ok "$3"
        return 0
    fi
    fail "$3"
    printf '#   %q contains %q\n' "$1" "$2"
    return 0
}

# assert_match STRING ERE MESSAGE
assert_match() {
    if [[ $1 =~ $2 ]]; then
        ok "$3"
        return 0
    fi
    fail "$3"
    printf '#   %q does not match /%s/\n' "$1" "$2"
    return 0
}

# assert_true MESSAGE CMD… : CMD must succeed (its output is discarded).
assert_true() {
    local msg=$1
    shift
    if "$@" >/dev/null 2>&1; then
        ok "$msg"
        return 0
    fi
    fail "$msg"
    return 0
}

# assert_error VERB [WHAT] : the last capture failed with berth's own error:
# exit 125 and exactly one line "berth: VERB: …" (or "berth: VERB SUB: …",
# e.g. "berth: image import: …") on stderr.
assert_error() {
    local verb=$1 what=${2:-}
    local lines re="^berth: $verb( [a-z-]+)?: ."
    lines=$(printf '%s' "$ERR" | grep -c '' || true)
    if [[ $RC -eq 125 && $lines -eq 1 && $ERR =~ $re ]]; then
        ok "one-line error, exit 125: ${what:-$ERR}"
        return 0
    fi
    fail "expected exit 125 and one line 'berth: $verb: …' (${what:-}), got exit $RC, $lines line(s)"
    _show
    return 0
}

# json_eval PYTHON_EXPR : evaluates EXPR with d = the JSON on stdin and prints
# it (str as is, everything else as JSON). Fails if stdin is not JSON.
json_eval() {
    python3 -c '
import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r))
' "$1"
}

# --- busybox image -----------------------------------------------------------

# Prints the path of a busybox rootfs tarball (made once, cached).
busybox_tar() {
    local tar="$CACHE/busybox-rootfs.tar"
    (
        flock 9
        if [[ ! -s $tar ]]; then
            local d
            d=$(mktemp -d "$CACHE/rootfs.XXXXXX")
            make_busybox_rootfs "$d"
            tar --numeric-owner -C "$d" -cf "$tar.tmp" .
            mv -f -- "$tar.tmp" "$tar"
            rm -rf -- "$d"
        fi
    ) 9>"$CACHE/.lock"
    printf '%s\n' "$tar"
}

# make_busybox_rootfs DIR : Debian's static busybox, its applets as symlinks,
# root and nobody.
make_busybox_rootfs() {
    local d=$1 applet
    local bb=/bin/busybox
    [[ -x $bb ]] || bb=$(command -v busybox)
    if ! file_is_static "$bb"; then
        echo "busybox at '$bb' is not static: install busybox-static" >&2
        return 1
    fi
    mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var,run}
    chmod 1777 "$d/tmp"
    chmod 0700 "$d/root"
    cp -- "$bb" "$d/bin/busybox"
    chmod 0755 "$d/bin/busybox"
    while read -r applet; do
        [[ -z $applet || $applet == bin/busybox ]] && continue
        mkdir -p "$d/$(dirname "$applet")"
        ln -sfn /bin/busybox "$d/$applet"
    done < <("$d/bin/busybox" --list-full)
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
        >"$d/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
    printf 'berth-test\n' >"$d/etc/hostname"
}

file_is_static() {
    # A static binary has no PT_INTERP.
    ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# setup_busybox [NAME] : imports the busybox rootfs as NAME (default busybox).
setup_busybox() {
    local name=${1:-busybox} tar
    tar=$(busybox_tar)
    capture berth image import "$tar" "$name"
    if [[ $RC -ne 0 ]]; then
        _show
        die "cannot import the busybox image (exit $RC): every later check would fail"
    fi
}

# make_oci_layout OUTDIR REF LAYER.tar[.gz]… : writes an OCI image layout
# (oci-layout, index.json, blobs/sha256) holding one linux/amd64 image named
# REF (org.opencontainers.image.ref.name) with the given layers, bottom
# first. A .tar.gz layer is stored compressed (media type tar+gzip), its
# diff_id taken from the uncompressed tar.
# With OCI_ENTRYPOINT (a JSON array) in the environment, the image has that entrypoint.
make_oci_layout() {
    python3 - "$@" <<'PY'
import gzip, hashlib, json, os, sys

out, ref, tars = sys.argv[1], sys.argv[2], sys.argv[3:]
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)

def put(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, h), "wb") as f:
        f.write(data)
    return "sha256:" + h, len(data)

layers, diff_ids = [], []
for t in tars:
    data = open(t, "rb").read()
    if t.endswith(".gz"):
        raw = gzip.decompress(data)
        mt = "application/vnd.oci.image.layer.v1.tar+gzip"
    elif t.endswith(".zst"):
        import subprocess
        raw = subprocess.run(["zstd", "-dc", t], check=True, capture_output=True).stdout
        mt = "application/vnd.oci.image.layer.v1.tar+zstd"
    else:
        raw = data
        mt = "application/vnd.oci.image.layer.v1.tar"
    digest, size = put(data)
    layers.append({"mediaType": mt, "digest": digest, "size": size})
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())

config = {
    "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
    "rootfs": {"type": "layers", "diff_ids": diff_ids},
}
if os.environ.get("OCI_ENTRYPOINT"):  # a JSON array: the image's entrypoint
    config["config"]["Entrypoint"] = json.loads(os.environ["OCI_ENTRYPOINT"])
cdig, csize = put(json.dumps(config).encode())
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": cdig, "size": csize},
    "layers": layers,
}
mdig, msize = put(json.dumps(manifest).encode())
index = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": mdig, "size": msize,
                   "annotations": {"org.opencontainers.image.ref.name": ref}}],
}
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump(index, f)
with open(os.path.join(out, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
PY
}

# --- state snapshots -----------------------------------------------------------

# tree_digest DIR : one hash of everything in DIR (names, types, modes, owners,
# sizes, link targets, file contents). With WITH_MTIME=1, mtimes too.
tree_digest() {
    local dir=$1 fmt='%P|%y|%m|%U:%G|%s|%l'
    [[ ${WITH_MTIME:-0} == 1 ]] && fmt+='|%T@'
    [[ -d $dir ]] || {
        echo "absent"
        return 0
    }
    (
        cd "$dir"
        find . -mindepth 1 -printf "$fmt\n" | LC_ALL=C sort
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
    ) | sha256sum | cut -d' ' -f1
}

# Entries of a directory (none if it does not exist), one per line.
dir_entries() {
    [[ -d $1 ]] || return 0
    find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort
}

# --- leftovers -----------------------------------------------------------------

# Mounts under $T, and any overlay in this namespace (a rootfs must only
# ever be mounted inside a container's own mount namespace).
leaked_mounts() {
    awk -v t="$T" '{
        sep = 0
        for (i = 7; i <= NF; i++) if ($i == "-") { sep = i; break }
        fstype = sep ? $(sep + 1) : ""
        if ($5 == t || index($5, t "/") == 1 || fstype == "overlay") print $5 " (" fstype ")"
    }' /proc/self/mountinfo
}

# Processes in the test's pid namespace other than the test itself (pid 1)
# and this shell. Zombies are dead already and are skipped.
leaked_processes() {
    local p pid stat rest state self=$BASHPID
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [[ $pid == 1 || $pid == "$self" ]] && continue
        stat=
        read -r stat <"$p/stat" 2>/dev/null || continue
        [[ -z $stat ]] && continue
        rest=${stat##*) }
        state=${rest%% *}
        [[ $state == Z ]] && continue
        printf '%s\n' "$pid"
    done
    return 0
}

describe_process() {
    local pid=$1
    printf '%s ppid=%s cwd=%s root=%s cmd=%s' "$pid" \
        "$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null)" \
        "$(readlink "/proc/$pid/cwd" 2>/dev/null)" "$(readlink "/proc/$pid/root" 2>/dev/null)" \
        "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
}

# Files in the run dir that outlive every container: only lock files (empty,
# named lock or *.lock) and directories may remain; $RUNROOT/containers must
# hold no entry.
leaked_run_files() {
    local f
    dir_entries "$T/run/containers" | sed 's|^|containers/|'
    [[ -d $T/run ]] || return 0
    while IFS= read -r f; do
        case ${f##*/} in
        lock | *.lock)
            if [[ -s $T/run/$f ]]; then
                printf '%s\n' "$f"
            fi
            ;;
        *.bpf)
            # Compiled seccomp filters: a cache shared by containers (docs/security.md).
            [[ $f == seccomp/* ]] || printf '%s\n' "$f"
            ;;
        plugin-cache.json)
            # What each plugin file is, so a command loads only those it calls
            # (core/plugin/plugin-cache.h).
            ;;
        *) printf '%s\n' "$f" ;;
        esac
    done < <(cd "$T/run" && find . -mindepth 1 ! -type d ! -path './containers/*' -printf '%P\n')
    return 0
}

# Container layers a storage driver still holds.
leaked_storage() {
    local d
    for d in "$T"/root/plugins/*/containers; do
        [[ -d $d ]] || continue
        dir_entries "$d" | sed "s|^|${d#"$T"/root/}/|"
    done
    return 0
}

# Container records and name reservations left in the store
# (ROOT/containers/ID.json, ROOT/containers/names/NAME; lock files may stay).
leaked_records() {
    [[ -d $T/root/containers ]] || return 0
    (cd "$T/root/containers" && find . -mindepth 1 ! -type d ! -name '*.lock' -printf '%P\n')
    return 0
}

# assert_clean [--all|--keep-containers] : nothing left behind. Call after every
# container of the test is removed (finish calls it).
assert_clean() {
    local keep=0 m p r s ids
    [[ ${1:-} == --keep-containers ]] && keep=1

    # Processes may take a moment to be reaped after their berth exits.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        p=$(leaked_processes)
        [[ -z $p ]] && break
        sleep 0.3
    done
    if [[ -z $p ]]; then
        ok "clean: no process left"
    else
        fail "clean: processes left"
        while read -r m; do
            printf '#   %s\n' "$(describe_process "$m")"
        done <<<"$p"
    fi

    m=$(leaked_mounts)
    if [[ -z $m ]]; then
        ok "clean: no mount under \$T, no overlay in the test's namespace"
    else
        fail "clean: mounts left"
        printf '#   %s\n' "${m//$'\n'/$'\n#   '}"
    fi

    m=$(leaked_cgroups)
    if [[ -z $m ]]; then
        ok "clean: no cgroup left under the test's own cgroup"
    else
        fail "clean: cgroups left"
        printf '#   %s\n' "${m//$'\n'/$'\n#   '}"
    fi

    [[ $keep -eq 1 ]] && return 0

    r=$(leaked_run_files)
    if [[ -z $r ]]; then
        ok "clean: run dir holds no container entry"
    else
        fail "clean: files left in the run dir"
        printf '#   %s\n' "${r//$'\n'/$'\n#   '}"
    fi

    s=$(leaked_storage)
    if [[ -z $s ]]; then
        ok "clean: no container layer left in any storage driver"
    else
        fail "clean: container layers left"
        printf '#   %s\n' "${s//$'\n'/$'\n#   '}"
    fi

    r=$(leaked_records)
    if [[ -z $r ]]; then
        ok "clean: no container record or name left in \$ROOT/containers"
    else
        fail "clean: records left in \$ROOT/containers"
        printf '#   %s\n' "${r//$'\n'/$'\n#   '}"
    fi

    capture berth ps -a -q
    ids=$OUT
    if [[ $RC -eq 0 && -z $ids ]]; then
        ok "clean: container store empty"
    else
        fail "clean: 'ps -a -q' exit $RC, containers: ${ids//$'\n'/ }"
        _show
    fi
}

# finish : checks the test left nothing, prints the tally and exits.
finish() {
    trap - ERR
    [[ ${SKIP_CLEAN_CHECK:-0} == 1 ]] || assert_clean --all
    FINISHED=1
    printf '# %s: %d passed, %d failed\n' "$TEST_NAME" "$N_OK" "$N_FAIL"
    if [[ $N_FAIL -ne 0 ]]; then
        exit 1
    fi
    exit 0
}

# find_in DIR NAME : prints the first path named NAME under DIR, if any.
find_in() {
    find "$1" -name "$2" -print -quit 2>/dev/null || true
}

# wait_for_file SECONDS DIR NAME : polls until a file NAME exists under DIR
# (a container signals readiness by touching a file in its writable layer).
wait_for_file() {
    local deadline=$((SECONDS + $1))
    while [[ -z $(find_in "$2" "$3") ]]; do
        [[ $SECONDS -ge $deadline ]] && return 1
        sleep 0.05
    done
    return 0
}

# wait_for SECONDS CMD… : polls CMD every 0.05 s until it succeeds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [[ $SECONDS -ge $deadline ]] && return 1
        sleep 0.05
    done
}
