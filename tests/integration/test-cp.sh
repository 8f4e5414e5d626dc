#!/usr/bin/env bash
# berth cp: files and directories both ways, into and out of a running
# container, a created one and a stopped one (with its volume); docker's
# naming rules (into a directory, onto a new name, a directory's contents
# with "/."); owners (the container's root, the caller, -a); symlinks (kept,
# followed with -L, and never leading out of the container's root, neither
# reading nor writing); tar streams on stdin and stdout; a container in a
# user namespace; berth export (the root file system without its mounts);
# bad input is one line, exit 125, and changes nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/userns-lib.sh"

setup_busybox busybox

# --- a running container --------------------------------------------------------
assert_status 0 berth run -d --name web --network none -v data:/data busybox sleep 600
mkdir -p "$T/src/dir/sub" "$T/out"
echo one >"$T/src/file.txt"
echo two >"$T/src/dir/a"
echo three >"$T/src/dir/sub/b"
ln -s a "$T/src/dir/link"
chmod 0751 "$T/src/dir/sub"
chown 1234:4321 "$T/src/dir/a"

assert_status 0 berth cp "$T/src/file.txt" web:/tmp/
assert_status 0 berth exec web cat /tmp/file.txt
assert_eq "one" "$OUT" "a file copied into an existing directory keeps its name"
assert_status 0 berth cp "$T/src/file.txt" web:/tmp/renamed
assert_status 0 berth exec web cat /tmp/renamed
assert_eq "one" "$OUT" "a file copied onto a new name takes it"
echo overwritten >"$T/over.txt"
assert_status 0 berth cp "$T/over.txt" web:/tmp/renamed
assert_status 0 berth exec web cat /tmp/renamed
assert_eq "overwritten" "$OUT" "a file copied onto an existing file replaces it"

assert_status 0 berth cp "$T/src/dir" web:/tmp
assert_status 0 berth exec web sh -c 'cat /tmp/dir/a /tmp/dir/sub/b; readlink /tmp/dir/link; stat -c "%a %u:%g" /tmp/dir/sub /tmp/dir/a'
assert_eq $'two\nthree\na\n751 0:0\n644 0:0' "$OUT" \
    "a directory goes into an existing directory under its name: contents, links, modes; owned by root"
assert_status 0 berth cp "$T/src/dir" web:/tmp/newdir
assert_status 0 berth exec web cat /tmp/newdir/sub/b
assert_eq "three" "$OUT" "a directory copied onto a new name becomes it"
assert_status 0 berth exec web mkdir /tmp/merge
assert_status 0 berth cp "$T/src/dir/." web:/tmp/merge
assert_status 0 berth exec web ls /tmp/merge
assert_eq $'a\nlink\nsub' "$OUT" "'DIR/.' copies the directory's contents"
assert_status 0 berth cp -a "$T/src/dir/a" web:/tmp/kept
assert_status 0 berth exec web stat -c "%u:%g" /tmp/kept
assert_eq "1234:4321" "$OUT" "-a keeps the owner"

# Larger than a pipe's buffer, both ways, byte for byte.
head -c 3000000 /dev/urandom >"$T/big"
assert_status 0 berth cp "$T/big" web:/tmp/big
assert_status 0 berth cp web:/tmp/big "$T/out/big"
assert_eq "$(sha256sum <"$T/big")" "$(sha256sum <"$T/out/big")" "3 MB in and out again, unchanged"

# Into the container's volume: the container's view, mounts included.
assert_status 0 berth cp "$T/src/file.txt" web:/data/in-volume
assert_true "a file copied to a volume's path lands in the volume" \
    test -f "$T/root/plugins/local/volumes/data/_data/in-volume"

# Out of it.
assert_status 0 berth exec web sh -c 'mkdir -p /srv/site/css && echo hi > /srv/site/index.html && echo b > /srv/site/css/s.css && chown -R 33:33 /srv/site && ln -s /srv/site/index.html /srv/idx'
assert_status 0 berth cp web:/srv/site "$T/out"
assert_eq "hi" "$(cat "$T/out/site/index.html")" "a directory out of the container into a host directory"
assert_eq "0:0" "$(stat -c %u:%g "$T/out/site/css/s.css")" "out of a container, files belong to the caller"
assert_status 0 berth cp -a web:/srv/site "$T/out/site-a"
assert_eq "33:33" "$(stat -c %u:%g "$T/out/site-a/css/s.css")" "-a keeps the container's owners"
assert_status 0 berth cp web:/srv/idx "$T/out/idx"
assert_eq "/srv/site/index.html" "$(readlink "$T/out/idx")" "a symlink is copied as a symlink"
assert_status 0 berth cp -L web:/srv/idx "$T/out/idx-followed"
assert_eq "hi" "$(cat "$T/out/idx-followed")" "-L copies what the link names, inside the container"
assert_true "-L gives a file, not a link" test ! -L "$T/out/idx-followed"
rc=0
berth cp web:/srv/site - >"$T/site.tar" || rc=$?
assert_eq 0 "$rc" "cp CONTAINER:DIR - succeeds"
assert_eq $'site/\nsite/css/\nsite/css/s.css\nsite/index.html' "$(tar -tf "$T/site.tar" | LC_ALL=C sort)" \
    "the tar holds the directory under its name"
mkdir -p "$T/intar/pkg"
echo from-tar >"$T/intar/pkg/f"
echo other >"$T/intar/other"
tar -C "$T/intar" -czf "$T/in.tgz" pkg other
assert_status 0 berth exec web mkdir -p /opt/x
rc=0
berth cp - web:/opt/x <"$T/in.tgz" || rc=$?
assert_eq 0 "$rc" "cp - CONTAINER:DIR succeeds"
assert_status 0 berth exec web cat /opt/x/pkg/f /opt/x/other
assert_eq $'from-tar\nother' "$OUT" "'-' extracts a (gzip) tar from stdin into the directory, every tree in it"
printf 'not a tar' >"$T/junk"
rc=0
berth cp - web:/opt/x <"$T/junk" 2>"$T/junk.err" || rc=$?
assert_eq "125 1" "$rc $(grep -c '' "$T/junk.err")" "a stream that is not a tar: one line, exit 125"

# Symlinks inside the container never lead out of it.
mkdir -p "$T/hostonly"
echo secret >"$T/hostonly/secret"
assert_status 0 berth exec web sh -c "ln -s $T/hostonly /tmp/escape && ln -s ../../../../../../$T/hostonly /tmp/escape2"
assert_status 125 berth cp web:/tmp/escape/secret "$T/out/leak"
assert_error cp "a path through an absolute symlink resolves inside the container"
assert_true "nothing was read from the host" test ! -e "$T/out/leak"
assert_status 125 berth cp web:/tmp/escape2/secret "$T/out/leak"
assert_error cp "a path through a relative symlink with .. stays in the container too"
assert_status 125 berth cp "$T/src/file.txt" web:/tmp/escape/planted
assert_true "nothing was written on the host through the container's symlink" test ! -e "$T/hostonly/planted"
assert_status 0 berth exec web sh -c "ln -s $T/hostonly/secret /tmp/escape-file"
assert_status 0 berth cp "$T/src/file.txt" web:/tmp/escape-file
assert_eq "secret" "$(cat "$T/hostonly/secret")" "copying onto a symlink replaces the link, never its host target"
assert_status 0 berth exec web cat /tmp/escape-file
assert_eq "one" "$OUT" "the container has the file in the link's place"

# The kernel's views (proc, sysfs, cgroup…) are not content: never copied, never written.
rc=0
berth cp web:/ - >"$T/root.tar" || rc=$?
assert_eq 0 "$rc" "the whole root of a running container as a tar"
tar -tf "$T/root.tar" >"$T/root.list"
assert_true "it holds the image's files" grep -qx './bin/busybox' "$T/root.list"
assert_true "and the volume's" grep -qx './data/in-volume' "$T/root.list"
assert_true "/proc is there, as an empty directory" grep -qx './proc/' "$T/root.list"
assert_eq "0 0" "$(grep -c '^\./proc/.' "$T/root.list") $(grep -c '^\./sys/.' "$T/root.list")" \
    "nothing below /proc and /sys"
assert_status 125 berth cp web:/proc/cpuinfo "$T/out/kcore"
assert_error cp "a file of /proc is refused"
assert_contains "$ERR" "kernel file system" "it says why"
assert_true "and not made" test ! -e "$T/out/kcore"
assert_status 125 berth cp "$T/src/file.txt" web:/proc/
assert_error cp "nothing is written into /proc"
assert_contains "$ERR" "kernel file system" "it says why"
assert_status 125 berth cp "$T/src/dir" web:/sys/fs/cgroup/newgroup
assert_error cp "nor into a cgroup file system"
assert_contains "$ERR" "kernel file system" "it says why"

# --- export: the root file system alone ----------------------------------------
assert_status 0 berth export -o "$T/web.tar" web
tar -tf "$T/web.tar" >"$T/web.list"
assert_true "export holds the image's files" grep -qx './bin/busybox' "$T/web.list"
assert_true "and what the container wrote" grep -qx './srv/site/index.html' "$T/web.list"
assert_true "the volume's mount point, as an empty directory" grep -qx './data/' "$T/web.list"
assert_eq "0" "$(grep -c '^\./data/.' "$T/web.list")" "not the volume's content"
assert_eq "0" "$(tar -xOf "$T/web.tar" ./etc/hosts | wc -c)" "a bound file's mount point, empty"
rc=0
berth export web >"$T/web2.tar" || rc=$?
assert_eq 0 "$rc" "export to stdout"
assert_eq "$(tar -tf "$T/web.tar" | LC_ALL=C sort)" "$(tar -tf "$T/web2.tar" | LC_ALL=C sort)" \
    "the same entries either way"
assert_status 125 berth export -o "$T/nodir/x.tar" web
assert_error export "a file in a directory that does not exist"
assert_status 125 berth export nosuch
assert_error export "an unknown container"
assert_eq "" "$(find "$T" -maxdepth 1 -name 'web.tar.*')" "no temporary file is left"

# --- bad input: one line, exit 125, nothing changed ------------------------------
assert_status 125 berth cp "$T/src/file.txt" "$T/out/x"
assert_error cp "neither side is a container"
assert_status 125 berth cp web:/a web:/b
assert_error cp "between two containers"
assert_status 125 berth cp "$T/src/file.txt" nosuch:/tmp
assert_error cp "an unknown container"
assert_status 125 berth cp web:/no/such "$T/out"
assert_error cp "a source that does not exist"
assert_status 125 berth cp "$T/src/file.txt" web:/no/such/dir/f
assert_error cp "a destination whose parent does not exist"
assert_status 125 berth cp "$T/src/file.txt" web:/tmp/notyet/
assert_error cp "a file onto a directory path that does not exist"
assert_status 125 berth cp "$T/src/dir" web:/tmp/file.txt
assert_error cp "a directory onto a file"
assert_status 0 berth exec web cat /tmp/file.txt
assert_eq "one" "$OUT" "the file is unchanged"
assert_status 125 berth cp web:/tmp/file.txt/ "$T/out"
assert_error cp "a file named with a trailing slash"
assert_status 125 berth cp
assert_error cp "no arguments"
assert_status 0 berth cp --help
assert_contains "$OUT" "Usage: berth cp" "--help"

# --- a created container, and one that ran and stopped ---------------------------
assert_status 0 berth create --name later --network none -v data:/data busybox cat /etc/motd /data/in-volume
assert_status 0 berth cp "$T/src/file.txt" later:/etc/motd
assert_status 0 berth start -a later
assert_eq $'one\none' "$OUT" "a file copied into a created container is there when it starts (volume too)"
assert_status 0 berth cp later:/etc/motd "$T/out/motd"
assert_eq "one" "$(cat "$T/out/motd")" "and can be copied out of it once it has stopped"
assert_status 0 berth cp "$T/src/dir" later:/dir-stopped
assert_status 0 berth start -a later
assert_status 0 berth cp later:/dir-stopped/sub/b "$T/out/b"
assert_eq "three" "$(cat "$T/out/b")" "a directory copied into a stopped container is kept"
assert_status 0 berth export -o "$T/later.tar" later
assert_eq "one" "$(tar -xOf "$T/later.tar" ./etc/motd)" "export of a stopped container"
assert_eq "0" "$(tar -tf "$T/later.tar" | grep -c '^\./data/.')" "without its volume"
assert_eq "" "$(grep " $T/run/cp-" /proc/mounts || true)" "no copy mount is left"
assert_eq "" "$(find "$T/run" -maxdepth 1 -name 'cp-*')" "no copy directory is left"

# --- a container in a user namespace ------------------------------------------
use_subids "berth:300000:65536"
assert_status 0 berth run -d --name userns --network none --uidmap 0:300000:65536 --gidmap 0:300000:65536 busybox sleep 600
assert_status 0 berth cp "$T/src/dir" userns:/tmp
assert_status 0 berth exec userns stat -c "%u:%g" /tmp/dir/a
assert_eq "0:0" "$OUT" "in a user namespace, a copy belongs to the container's root"
assert_status 0 berth cp -a "$T/src/dir/a" userns:/tmp/a-kept
assert_status 0 berth exec userns stat -c "%u:%g" /tmp/a-kept
assert_eq "1234:4321" "$OUT" "-a keeps the ids as the container sees them"
assert_status 0 berth exec userns sh -c 'echo u > /tmp/u && chown 7:7 /tmp/u'
assert_status 0 berth cp -a userns:/tmp/u "$T/out/u"
assert_eq "7:7" "$(stat -c %u:%g "$T/out/u")" "out of it with -a: the ids the container sees"

assert_status 0 berth stop userns
assert_status 125 berth cp "$T/src/file.txt" userns:/tmp/
assert_error cp "a stopped container in a user namespace: refused, not written with the wrong owners"
assert_contains "$ERR" "start it first" "it says what to do"
assert_status 125 berth export -o "$T/userns.tar" userns
assert_error export "export of it neither"

assert_status 0 berth rm -f web userns later
assert_status 0 berth volume rm data
finish
