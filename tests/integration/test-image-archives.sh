#!/usr/bin/env bash
# docker-archive and OCI archives: `load` of archives written the way
# `docker save` writes them (legacy ID/layer.tar, made here in python3) and
# by skopeo; compressed archives; zstd layers; `save` round trips (digests
# kept, read back by berth and skopeo); image tag, history and prune; and
# hostile archives refused with one line, exit 125, the store unchanged.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

# make_docker_archive OUT.tar SPEC.json : a legacy docker-archive. SPEC is a
# list of images {"tags": [...], "layers": [[path, compress], ...],
# "history": bool}; compress is "", "gzip" or "zstd" (the file under
# ID/layer.tar is stored so, its diff_id the uncompressed tar's). An
# identical layer used twice becomes a symlink, as docker writes it.
# Hostile tweaks: "config_path", "layer_path" (overrides a Layers entry),
# "bad_diff_id".
make_docker_archive() {
    python3 - "$@" <<'PY'
import gzip, hashlib, io, json, os, subprocess, sys, tarfile

out, spec = sys.argv[1], json.load(open(sys.argv[2]))
files = {}        # path -> bytes
links = {}        # path -> symlink target
seen = {}         # layer bytes digest -> dir
manifest, repos = [], {}
for img in spec:
    diff_ids, paths, history = [], [], []
    for src, comp in img["layers"]:
        raw = open(src, "rb").read()
        data = raw
        if comp == "gzip":
            data = gzip.compress(raw, mtime=0)
        elif comp == "zstd":
            data = subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE, check=True).stdout
        diff = "sha256:" + hashlib.sha256(raw).hexdigest()
        lid = hashlib.sha256((diff + comp).encode()).hexdigest()
        if lid in seen:
            links.setdefault(lid + "-again/layer.tar", "../" + lid + "/layer.tar")
            paths.append(lid + "-again/layer.tar")
        else:
            seen[lid] = True
            files[lid + "/layer.tar"] = data
            files[lid + "/VERSION"] = b"1.0"
            files[lid + "/json"] = json.dumps({"id": lid}).encode()
            paths.append(lid + "/layer.tar")
        diff_ids.append(diff)
        history.append({"created": "2024-01-02T03:04:05Z", "created_by": "/bin/sh -c #(nop) ADD file:" + os.path.basename(src)})
    if img.get("bad_diff_id"):
        diff_ids[-1] = "sha256:" + "0" * 64
    history.append({"created": "2024-01-02T03:04:06Z", "created_by": "/bin/sh -c #(nop)  CMD [\"/bin/sh\"]", "empty_layer": True})
    config = {"architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:06Z",
              "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": history}
    cdata = json.dumps(config).encode()
    chex = hashlib.sha256(cdata).hexdigest()
    files[chex + ".json"] = cdata
    if "layer_path" in img:
        paths[-1] = img["layer_path"]
    manifest.append({"Config": img.get("config_path", chex + ".json"), "RepoTags": img["tags"], "Layers": paths})
    for t in img["tags"]:
        r, tag = t.rsplit(":", 1)
        repos.setdefault(r, {})[tag] = chex
files["manifest.json"] = json.dumps(manifest).encode()
files["repositories"] = json.dumps(repos).encode()
with tarfile.open(out, "w") as tf:
    for name in sorted(set(files) | set(links)):
        ti = tarfile.TarInfo(name)
        ti.mtime = 1700000000
        if name in links:
            ti.type, ti.linkname = tarfile.SYMTYPE, links[name]
            tf.addfile(ti)
        else:
            ti.size = len(files[name])
            tf.addfile(ti, io.BytesIO(files[name]))
PY
}

config_digest() { # config_digest ARCHIVE.tar TAG : the image id docker would report
    python3 - "$1" "$2" <<'PY'
import hashlib, json, sys, tarfile
tf = tarfile.open(sys.argv[1])
for e in json.load(tf.extractfile("manifest.json")):
    if any(t == sys.argv[2] or t.endswith("/library/" + sys.argv[2]) for t in e.get("RepoTags") or []):
        print("sha256:" + hashlib.sha256(tf.extractfile(e["Config"]).read()).hexdigest())
PY
}

image_field() { # image_field REF EXPR
    capture berth image inspect "$1"
    json_eval "d[0]$2" <<<"$OUT"
}

store_state() { tree_digest "$T/root/images"; }

# Two small layers over busybox.
mkdir -p "$T/l1/etc" "$T/l2/srv"
echo one >"$T/l1/etc/one"
echo two >"$T/l2/srv/two"
tar --numeric-owner -C "$T/l1" -cf "$T/l1.tar" .
tar --numeric-owner -C "$T/l2" -cf "$T/l2.tar" .
BB=$(busybox_tar)

# --- legacy docker-archive ---------------------------------------------------
cat >"$T/spec.json" <<JSON
[{"tags": ["dock:a", "dock:alias"], "layers": [["$BB", ""], ["$T/l1.tar", ""]]},
 {"tags": ["dock:b"], "layers": [["$BB", ""], ["$T/l2.tar", "zstd"]]}]
JSON
make_docker_archive "$T/docker.tar" "$T/spec.json"
assert_status 0 berth load -i "$T/docker.tar"
assert_eq $'Loaded image: dock:a\nLoaded image: dock:alias\nLoaded image: dock:b' "$OUT" \
    "load prints one line per RepoTag"
assert_eq "$(config_digest "$T/docker.tar" dock:a)" "$(image_field dock:a '["Id"]')" \
    "the image id is the digest of the archive's config"
assert_eq "$(image_field dock:a '["Id"]')" "$(image_field dock:alias '["Id"]')" \
    "two RepoTags name one image"
assert_status 0 berth run --rm dock:a cat /etc/one
assert_eq "one" "$OUT" "a docker-archive image runs with its layers"
assert_eq "application/vnd.oci.image.layer.v1.tar+zstd" "$(image_field dock:b '["Layers"][1]["MediaType"]')" \
    "a zstd layer file is stored as tar+zstd"
assert_status 0 berth run --rm dock:b cat /srv/two
assert_eq "two" "$OUT" "a zstd layer unpacks"

# On a terminal: a progress line per layer and a summary (on stderr).
berth image rm dock:b >/dev/null
tty_out=$(script -qec "$(printf '%q ' "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" load -i "$T/docker.tar")" /dev/null </dev/null)
assert_match "$tty_out" '[0-9a-f]{12}: verified [0-9.]+[kMG]?B in [0-9.]+s \([0-9.]+[kMG]?B/s\)' \
    "load on a terminal: a line per verified layer (size, time, speed)"
assert_contains "$tty_out" "Loaded: 3 layers," "load on a terminal: a summary, each layer counted once"
assert_contains "$tty_out" "Loaded image: dock:b" "load on a terminal: the result"
tty_out=$(script -qec "$(printf '%q ' "$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" load -q -i "$T/docker.tar")" /dev/null </dev/null)
assert_not_contains "$tty_out" "verified" "load -q on a terminal: no progress"
assert_status 0 berth load -i "$T/docker.tar"
assert_not_contains "$OUT$ERR" "verified" "load on a pipe: no progress"

# The same archive compressed: gzip and zstd, and the shared layer symlinked.
cat >"$T/spec2.json" <<JSON
[{"tags": ["comp:a"], "layers": [["$BB", "gzip"], ["$T/l1.tar", ""]]},
 {"tags": ["comp:b"], "layers": [["$BB", "gzip"], ["$T/l2.tar", "gzip"]]}]
JSON
make_docker_archive "$T/comp.tar" "$T/spec2.json"
listing=$(tar -tvf "$T/comp.tar")
if [[ $listing == *"-again/layer.tar -> "* ]]; then
    ok "the fixture holds a symlinked layer, as docker writes shared layers"
else
    fail "the fixture has no symlinked layer"
fi
gzip -c "$T/comp.tar" >"$T/comp.tar.gz"
zstd -q -c "$T/comp.tar" >"$T/comp.tar.zst"
assert_status 0 berth load -i "$T/comp.tar.gz"
assert_contains "$OUT" "Loaded image: comp:b" ".tar.gz docker-archive loads"
assert_status 0 berth run --rm comp:b cat /srv/two
assert_eq "two" "$OUT" "gzip layers of a gzip archive unpack"
berth image rm comp:a comp:b >/dev/null
assert_status 0 berth load -q -i "$T/comp.tar.zst"
assert_contains "$OUT" "Loaded image: comp:a" ".tar.zst docker-archive loads (-q)"
assert_status 0 berth run --rm comp:a cat /etc/one
assert_eq "one" "$OUT" "an image of a zstd archive runs"

# --- written by skopeo ------------------------------------------------------
make_oci_layout "$T/layout" "src:v1" "$BB" "$T/l1.tar"
if skopeo --insecure-policy copy -q "oci:$T/layout:src:v1" "docker-archive:$T/skopeo.tar:skopeo:v1" 2>"$T/sk.err"; then
    assert_status 0 berth load -i "$T/skopeo.tar"
    # skopeo writes the fully qualified name (docker.io/library/skopeo:v1).
    assert_match "$OUT" '^Loaded image: (docker.io/library/)?skopeo:v1$' "skopeo's docker-archive loads"
    skname=${OUT#Loaded image: }
    assert_eq "$(config_digest "$T/skopeo.tar" "$skname")" "$(image_field "$skname" '["Id"]')" \
        "skopeo's docker-archive keeps the image id"
    assert_status 0 berth run --rm "$skname" cat /etc/one
    assert_eq "one" "$OUT" "skopeo's docker-archive image runs"
else
    fail "skopeo could not write a docker-archive: $(cat "$T/sk.err")"
fi

# --- save round trips -------------------------------------------------------
id_a=$(image_field dock:a '["Id"]')
md_a=$(image_field dock:a '["ManifestDigest"]')
id_b=$(image_field dock:b '["Id"]')
md_b=$(image_field dock:b '["ManifestDigest"]')
assert_status 0 berth save -o "$T/saved.tar" dock:a dock:b
assert_eq "" "$(find "$T" -maxdepth 1 -name 'saved.tar.berth-tmp-*')" "save leaves no temporary file"
assert_status 0 bash -c '"$0" --root "$1/root" --runroot "$1/run" --plugin-path "$2" save dock:a >"$1/stdout.tar"' \
    "$BERTH" "$T" "$PLUGIN_PATH"
assert_true "save writes to stdout when it is not a terminal" test -s "$T/stdout.tar"
assert_eq "$(sha256sum <"$T/stdout.tar" | cut -c1-64)" \
    "$(berth save -o "$T/again.tar" dock:a && sha256sum <"$T/again.tar" | cut -c1-64)" \
    "save of the same image gives the same bytes"
berth image rm dock:a dock:alias dock:b >/dev/null
assert_status 0 berth load -i "$T/saved.tar"
assert_eq $'Loaded image: dock:a\nLoaded image: dock:b' "$OUT" "a saved archive of two images loads both"
assert_eq "$id_a $md_a" "$(image_field dock:a '["Id"]') $(image_field dock:a '["ManifestDigest"]')" \
    "docker-archive round trip keeps id and manifest digest"
assert_eq "$id_b $md_b" "$(image_field dock:b '["Id"]') $(image_field dock:b '["ManifestDigest"]')" \
    "docker-archive round trip keeps the zstd image's digests"
assert_status 0 berth run --rm dock:b cat /srv/two
assert_eq "two" "$OUT" "the reloaded zstd image runs"

assert_status 0 berth save --format oci-archive -o "$T/saved-oci.tar" dock:a
berth image rm dock:a >/dev/null
assert_status 0 berth load -i "$T/saved-oci.tar"
assert_eq "Loaded image: dock:a" "$OUT" "an oci-archive loads"
assert_eq "$id_a $md_a" "$(image_field dock:a '["Id"]') $(image_field dock:a '["ManifestDigest"]')" \
    "oci-archive round trip keeps id and manifest digest"

# Standard input: save | load, load < FILE, load -, image import -.
berth image rm dock:a >/dev/null
assert_status 0 bash -c '"$0" --root "$1/root" --runroot "$1/run" --plugin-path "$2" save dock:b |
    "$0" --root "$1/root" --runroot "$1/run" --plugin-path "$2" load' "$BERTH" "$T" "$PLUGIN_PATH"
assert_eq "Loaded image: dock:b" "$OUT" "berth save | berth load: the archive from standard input"
assert_status 0 bash -c '"$0" --root "$1/root" --runroot "$1/run" --plugin-path "$2" load - <"$1/saved-oci.tar"' \
    "$BERTH" "$T" "$PLUGIN_PATH"
assert_eq "$id_a $md_a" "$(image_field dock:a '["Id"]') $(image_field dock:a '["ManifestDigest"]')" \
    "load - reads it too, and keeps the digests"
assert_status 0 bash -c '"$0" --root "$1/root" --runroot "$1/run" --plugin-path "$2" image import - fromstdin <"$3"' \
    "$BERTH" "$T" "$PLUGIN_PATH" "$BB"
assert_match "$OUT" '^sha256:[0-9a-f]{64}$' "image import - reads the tarball from standard input"
assert_status 0 berth run --rm --network none fromstdin true
assert_status 125 bash -c 'printf "not an archive" | "$0" --root "$1/root" --runroot "$1/run" --plugin-path "$2" load' \
    "$BERTH" "$T" "$PLUGIN_PATH"
assert_error "image load" "garbage on standard input"
assert_eq "" "$(dir_entries "$T/root/images/tmp")" "nothing spooled is left"

# skopeo reads what berth wrote.
if skopeo --insecure-policy copy -q "oci-archive:$T/saved-oci.tar:dock:a" "dir:$T/sk-oci" 2>"$T/sk.err"; then
    assert_eq "${md_a#sha256:}" "$(sha256sum <"$T/sk-oci/manifest.json" | cut -c1-64)" \
        "skopeo reads berth's oci-archive: same manifest digest"
else
    fail "skopeo cannot read berth's oci-archive: $(cat "$T/sk.err")"
fi
if skopeo --insecure-policy copy -q "docker-archive:$T/saved.tar:dock:b" "dir:$T/sk-dock" 2>"$T/sk.err"; then
    assert_eq "$id_b" "$(json_eval 'd["config"]["digest"]' <"$T/sk-dock/manifest.json")" \
        "skopeo reads berth's docker-archive: same image id"
else
    fail "skopeo cannot read berth's docker-archive: $(cat "$T/sk.err")"
fi

# --- tag, history, prune ----------------------------------------------------
assert_status 0 berth image tag dock:a other/name:v2
assert_eq "$id_a" "$(image_field other/name:v2 '["Id"]')" "image tag adds a name"
assert_status 0 berth tag "${id_b:7:12}" other/name:v2
assert_eq "$id_b" "$(image_field other/name:v2 '["Id"]')" "tag by id prefix moves the name"
assert_status 125 berth image tag nosuch:image x:y
assert_error "image tag" "tag of a missing image"
assert_status 0 berth history dock:a
assert_contains "$OUT" "IMAGE          CREATED           CREATED BY" "history prints docker's columns"
assert_contains "$OUT" "${id_a:7:12}" "history's top row carries the image id"
assert_contains "$OUT" "CMD [\"/bin/sh\"]" "history shows created_by"
assert_status 0 berth image history --format json dock:a
assert_eq "3 True 0" "$(json_eval '" ".join(map(str, [len(d), d[0]["EmptyLayer"], d[0]["Size"]]))' <<<"$OUT")" \
    "history --format json: 3 rows, newest (empty) first"
assert_status 0 berth image history --no-trunc dock:a
assert_contains "$OUT" "$id_a" "history --no-trunc prints the full id"

berth image tag dock:a dang:x >/dev/null
berth image tag busybox dang:x >/dev/null # dock:a keeps its name; nothing dangling yet
make_oci_layout "$T/dl" "dangle:me" "$BB" "$T/l2.tar"
berth load -i "$T/dl" >/dev/null
dangling_id=$(image_field dangle:me '["Id"]')
berth image tag busybox dangle:me >/dev/null # the loaded image is dangling now
assert_status 0 berth image prune -f
assert_contains "$OUT" "deleted: $dangling_id" "image prune removes the dangling image"
assert_status 0 berth image inspect dock:a
assert_status 0 berth image prune -a -f
assert_contains "$OUT" "deleted: $id_a" "image prune -a removes unused named images"
assert_status 0 berth image ls -q
assert_eq "" "$OUT" "image prune -a leaves no unused image"

# --- hostile archives -------------------------------------------------------
setup_busybox busybox
hostile() { # hostile NAME SPEC-JSON WHAT
    printf '%s' "$2" >"$T/h.json"
    make_docker_archive "$T/$1.tar" "$T/h.json"
    local before
    before=$(store_state)
    assert_status 125 berth load -i "$T/$1.tar"
    assert_error "image load" "$3"
    assert_eq "$before" "$(store_state)" "$3: the store is unchanged"
}
hostile missing "[{\"tags\":[\"h:1\"],\"layers\":[[\"$BB\",\"\"]],\"layer_path\":\"nosuch/layer.tar\"}]" \
    "a missing layer"
hostile baddiff "[{\"tags\":[\"h:1\"],\"layers\":[[\"$BB\",\"\"]],\"bad_diff_id\":true}]" \
    "a layer that does not match its diff_id"
hostile traversal "[{\"tags\":[\"h:1\"],\"layers\":[[\"$BB\",\"\"]],\"layer_path\":\"../../../../etc/passwd\"}]" \
    "path traversal in manifest.json Layers"
hostile abs "[{\"tags\":[\"h:1\"],\"layers\":[[\"$BB\",\"\"]],\"config_path\":\"/etc/passwd\"}]" \
    "an absolute Config path"
# A layer symlink pointing out of the archive.
python3 - "$T/symlink.tar" <<'PY'
import io, json, sys, tarfile
with tarfile.open(sys.argv[1], "w") as tf:
    def add(name, data=None, link=None):
        ti = tarfile.TarInfo(name)
        if link:
            ti.type, ti.linkname = tarfile.SYMTYPE, link
            tf.addfile(ti)
        else:
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    add("c.json", json.dumps({"rootfs": {"type": "layers", "diff_ids": []}}).encode())
    add("x/layer.tar", link="/etc/passwd")
    add("manifest.json", json.dumps([{"Config": "c.json", "RepoTags": ["h:1"], "Layers": ["x/layer.tar"]}]).encode())
PY
before=$(store_state)
assert_status 125 berth load -i "$T/symlink.tar"
assert_error "image load" "a layer symlink leaving the archive"
assert_eq "$before" "$(store_state)" "symlinked layer: the store is unchanged"
printf 'not json' >"$T/bad-manifest.json"
tar -C "$T" -cf "$T/badjson.tar" --transform 's/bad-manifest.json/manifest.json/' bad-manifest.json
assert_status 125 berth load -i "$T/badjson.tar"
assert_error "image load" "a manifest.json that is not JSON"
assert_status 125 berth save -o "$T/never.tar" nosuch:image
assert_error "image save" "save of a missing image"
assert_true "a failed save leaves no file" test ! -e "$T/never.tar"

finish
