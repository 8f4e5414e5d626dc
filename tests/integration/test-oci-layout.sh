#!/usr/bin/env bash
# `image load` of an OCI image layout (directory and archive) with several
# layers: whiteouts and opaque directories applied as the OCI image spec
# says; hardlinks, symlinks, owners, modes and xattrs kept.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

# Layer 1 (gzip) and layer 2 (plain tar) over the busybox layer.
python3 - "$T/l1.tar.gz" "$T/l2.tar" <<'PY'
import gzip, io, sys, tarfile

def entries(tf, spec):
    for e in spec:
        kind, name = e[0], e[1]
        ti = tarfile.TarInfo(name)
        ti.mtime = 1700000000
        data = b""
        if kind == "dir":
            ti.type, ti.mode = tarfile.DIRTYPE, e[2] if len(e) > 2 else 0o755
        elif kind == "file":
            data = e[2]
            ti.size, ti.mode = len(data), 0o644
            if len(e) > 3:
                for k, v in e[3].items():
                    setattr(ti, k, v)
        elif kind == "hardlink":
            ti.type, ti.linkname = tarfile.LNKTYPE, e[2]
        elif kind == "symlink":
            ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, e[2], 0o777
        tf.addfile(ti, io.BytesIO(data) if data else None)

l1 = [
    ("dir", "a"), ("file", "a/keep", b"v1\n"), ("file", "a/gone", b"gone\n"),
    ("dir", "gonedir"), ("file", "gonedir/inner", b"inner\n"),
    ("dir", "opq"), ("file", "opq/old1", b"old\n"), ("dir", "opq/sub"), ("file", "opq/sub/old2", b"old\n"),
    ("file", "hl1", b"linked\n"), ("hardlink", "hl2", "hl1"),
    ("symlink", "sl", "/a/keep"),
    ("file", "owned", b"owned\n", {"uid": 1000, "gid": 1000, "mode": 0o640}),
    ("file", "suid", b"#!/bin/sh\n", {"mode": 0o4755}),
    ("dir", "private", 0o700),
    ("file", "xattr-file", b"x\n", {"pax_headers": {"SCHILY.xattr.user.berth": "yes"}}),
]
l2 = [
    ("file", "a/keep", b"v2\n"), ("file", "a/.wh.gone", b""),
    ("file", ".wh.gonedir", b""),
    ("dir", "opq"), ("file", "opq/.wh..wh..opq", b""), ("file", "opq/new", b"new\n"),
    ("dir", "b"), ("file", "b/added", b"added\n"),
]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
    entries(tf, l1)
with open(sys.argv[1], "wb") as f:
    f.write(gzip.compress(buf.getvalue()))
with tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT) as tf:
    entries(tf, l2)
PY

make_oci_layout "$T/layout" "ocitest:v1" "$(busybox_tar)" "$T/l1.tar.gz" "$T/l2.tar"
layer_digests=$(python3 -c '
import json, sys, os
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
m = json.load(open(os.path.join(d, "blobs", *idx["manifests"][0]["digest"].split(":"))))
print("\n".join(l["digest"] for l in m["layers"]))' "$T/layout")

assert_status 0 berth image load -i "$T/layout"
assert_contains "$OUT" "ocitest:v1" "load prints the loaded name"
assert_status 0 berth image inspect ocitest:v1
inspect=$OUT
while read -r dg; do
    assert_contains "$inspect" "${dg#sha256:}" "image inspect lists layer ${dg:7:12}"
done <<<"$layer_digests"

check_tree() { # check_tree REF WHAT
    local ref=$1 what=$2
    assert_status 0 berth run --rm "$ref" sh -c 'ls -A /a | tr "\n" " "'
    assert_eq "keep " "$OUT" "$what: whiteout .wh.gone deleted a/gone, nothing else"
    assert_status 0 berth run --rm "$ref" cat /a/keep
    assert_eq "v2" "$OUT" "$what: the upper layer's file wins"
    assert_status 0 berth run --rm "$ref" sh -c 'test -e /gonedir && echo present || echo absent'
    assert_eq "absent" "$OUT" "$what: a whited-out directory is gone"
    assert_status 0 berth run --rm "$ref" sh -c 'ls -A /opq | tr "\n" " "'
    assert_eq "new " "$OUT" "$what: the opaque dir shows only the upper layer's entries"
    assert_status 0 berth run --rm "$ref" sh -c 'find / -xdev -name ".wh.*" | head -3; echo end'
    assert_eq "end" "$OUT" "$what: no whiteout file is visible"
    assert_status 0 berth run --rm "$ref" cat /b/added
    assert_eq "added" "$OUT" "$what: a new dir of the upper layer"
    assert_status 0 berth run --rm "$ref" /bin/busybox echo base
    assert_eq "base" "$OUT" "$what: the base layer is there"
}
check_tree ocitest:v1 "layout"

assert_status 0 berth run --rm ocitest:v1 sh -c '[ /hl1 -ef /hl2 ] && stat -c %h /hl2'
assert_eq "2" "$OUT" "hardlinks kept"
assert_status 0 berth run --rm ocitest:v1 readlink /sl
assert_eq "/a/keep" "$OUT" "symlinks kept"
assert_status 0 berth run --rm ocitest:v1 stat -c '%u:%g %a' /owned
assert_eq "1000:1000 640" "$OUT" "owner and mode kept"
assert_status 0 berth run --rm ocitest:v1 stat -c '%a' /suid /private
assert_eq $'4755\n700' "$OUT" "setuid and directory modes kept"
xf=$(find_in "$OVERLAY_STATE/layers" xattr-file)
if [[ -n $xf ]]; then
    assert_eq "yes" "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.berth").decode())' "$xf" 2>&1)" \
        "xattrs kept"
else
    fail "xattr-file not found in the unpacked layers"
fi
assert_status 0 berth run --rm ocitest:v1 sh -c 'echo "$PATH"'
assert_eq "/usr/sbin:/usr/bin:/sbin:/bin" "$OUT" "the image config's Env is used"
out=$(printf 'echo from-default-cmd\n' | berth run --rm ocitest:v1 2>&1 || true)
assert_eq "from-default-cmd" "$out" "without a command, the image config's Cmd (/bin/sh) runs"

# The same image as an OCI archive, under another name.
make_oci_layout "$T/layout2" "ocitest:archive" "$(busybox_tar)" "$T/l1.tar.gz" "$T/l2.tar"
tar -C "$T/layout2" -cf "$T/layout2.tar" .
assert_status 0 berth image load -i "$T/layout2.tar"
check_tree ocitest:archive "archive"
assert_status 0 berth image inspect ocitest:archive
assert_contains "$OUT" "$(json_eval 'd[0].get("id", d[0].get("Id", ""))' <<<"$inspect" 2>/dev/null || echo none)" \
    "the archive holds the same image id as the layout"

# The shared fixture generator, when present.
gen="$BERTH_TEST_TOP/tests/fixtures/make-oci-layout.sh"
if [[ -x $gen || -f $gen ]]; then
    mkdir -p "$T/base" "$T/d1/a" "$T/d1/opq" "$T/d2/a" "$T/d2/opq" "$T/d2/b"
    tar -C "$T/base" -xf "$(busybox_tar)"
    echo v1 >"$T/d1/a/keep"
    echo gone >"$T/d1/a/gone"
    echo old >"$T/d1/opq/old1"
    echo v2 >"$T/d2/a/keep"
    : >"$T/d2/a/.wh.gone"
    : >"$T/d2/opq/.wh..wh..opq"
    echo new >"$T/d2/opq/new"
    echo added >"$T/d2/b/added"
    mkdir -p "$T/d1/gonedir" && echo inner >"$T/d1/gonedir/inner"
    : >"$T/d2/.wh.gonedir"
    if bash "$gen" --name ocitest:fixture "$T/fixture" "$T/base" "$T/d1" "$T/d2" >/dev/null; then
        assert_status 0 berth image load -i "$T/fixture"
        check_tree ocitest:fixture "fixture layout"
    else
        fail "tests/fixtures/make-oci-layout.sh failed"
    fi
else
    note "tests/fixtures/make-oci-layout.sh absent: only the inline layouts were checked"
fi

finish
