#!/usr/bin/env bash
# Hostile layers: an entry with "..", an absolute path, a path through a
# symlink, a hardlink that leaves the layer. Each is refused with exit 125 and
# one line naming the entry; nothing is written outside the layer and the
# stores are exactly as before.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox
mkdir -p "$T/outdir"
echo "victim" >"$T/victim"

# make_hostile KIND OUT.tar : a tar whose first entry is harmless and whose
# later entries try to escape (the entry names all contain "evil").
make_hostile() {
    python3 - "$1" "$2" "$T" <<'PY'
import io, sys, tarfile
kind, out, t = sys.argv[1], sys.argv[2], sys.argv[3]

def reg(tf, name, data=b"pwned\n"):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    tf.addfile(ti, io.BytesIO(data))

def link(tf, name, target, kind):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = target
    tf.addfile(ti)

with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
    reg(tf, "harmless.txt", b"fine\n")
    if kind == "dotdot":
        reg(tf, "../evil-dotdot")
    elif kind == "deep-dotdot":
        reg(tf, "a/../../../../../../../../../.." + t + "/evil-deep")
    elif kind == "absolute":
        reg(tf, t + "/evil-absolute")
    elif kind == "symlink-dir":
        link(tf, "evil-link", t + "/outdir", tarfile.SYMTYPE)
        reg(tf, "evil-link/evil-through-symlink")
    elif kind == "symlink-rel":
        link(tf, "evil-up", "../../../../../../../../../../.." + t + "/outdir", tarfile.SYMTYPE)
        reg(tf, "evil-up/evil-through-relative-symlink")
    elif kind == "hardlink-abs":
        link(tf, "evil-hardlink", t + "/victim", tarfile.LNKTYPE)
    elif kind == "hardlink-dotdot":
        link(tf, "evil-hardlink-up", "../../../../../../../../../.." + t + "/victim", tarfile.LNKTYPE)
    elif kind == "hardlink-via-symlink":
        link(tf, "evil-l", t, tarfile.SYMTYPE)
        link(tf, "evil-hardlink-through", "evil-l/victim", tarfile.LNKTYPE)
    else:
        raise SystemExit("unknown kind " + kind)
PY
}

# What an escape (or a refused layer left half unpacked) would have touched.
outside_state() {
    find "$T" -name 'evil*' -not -path "$T/hostile*"
    find "$T/outdir" -mindepth 1
    stat -c '%h %s' "$T/victim"
    cat "$T/victim"
}

kinds=(dotdot deep-dotdot absolute symlink-dir symlink-rel hardlink-abs hardlink-dotdot hardlink-via-symlink)
outside_before=$(outside_state)
images_before=$(tree_digest "$T/root/images")
layers_before=$(tree_digest "$OVERLAY_STATE/layers")
capture berth image ls -q
ids_before=$OUT

for kind in "${kinds[@]}"; do
    tarf="$T/hostile-$kind.tar"
    make_hostile "$kind" "$tarf"
    assert_status 125 berth image import "$tarf" "evil-$kind"
    assert_error image "hostile layer '$kind' refused"
    assert_contains "$ERR" "evil" "the error names the offending entry ($kind)"

    # The same layer inside an OCI layout (image load) is refused the same way.
    rm -rf -- "$T/hostile-layout"
    make_oci_layout "$T/hostile-layout" "evil-oci:$kind" "$(busybox_tar)" "$tarf"
    assert_status 125 berth image load -i "$T/hostile-layout"
    assert_error image "hostile OCI layer '$kind' refused"

    assert_eq "$outside_before" "$(outside_state)" "nothing written outside the layer ($kind)"
    assert_eq "$images_before" "$(tree_digest "$T/root/images")" "image store unchanged ($kind)"
    assert_eq "$layers_before" "$(tree_digest "$OVERLAY_STATE/layers")" "layers unchanged ($kind)"
done
assert_status 0 berth image ls -q
assert_eq "$ids_before" "$OUT" "no hostile image was added"

# A symlink pointing outside is fine as data (it resolves inside the
# container's root); only extraction through it is not.
python3 - "$T/benign.tar" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], "w") as tf:
    ti = tarfile.TarInfo("etc/abs-link")
    ti.type = tarfile.SYMTYPE
    ti.linkname = "/etc/passwd"
    tf.addfile(ti)
PY
rm -rf -- "$T/benign-layout"
make_oci_layout "$T/benign-layout" "benign:1" "$(busybox_tar)" "$T/benign.tar"
assert_status 0 berth image load -i "$T/benign-layout"
assert_status 0 berth run --rm benign:1 head -1 /etc/abs-link
assert_eq "root:x:0:0:root:/root:/bin/sh" "$OUT" "an absolute symlink resolves inside the container"

finish
