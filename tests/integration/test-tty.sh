#!/usr/bin/env bash
# Terminals: `run -it` and `exec -it` driven through a real pty (python3's pty
# module): berth's terminal in raw mode and restored, the window size at start
# and after SIGWINCH, ctrl-c and ctrl-z reaching the container as characters,
# the shell's exit status, and -it refused without a terminal.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_busybox busybox

# drive BERTH-ARGS… : runs berth on a new pty (33x101) with busybox sh inside
# and prints "key value" lines of what it saw.
cat >"$T/drive.py" <<'PY'
import fcntl, os, pty, re, select, signal, struct, sys, termios, time

argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    # The size is set before berth starts: no race with its first TIOCGWINSZ.
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    os.execvp(argv[0], argv)

buf = b""

def report(key, value):
    print(key, value, flush=True)

def expect(pattern, timeout=15):
    """Reads until PATTERN matches what came since the last match."""
    global buf
    deadline = time.time() + timeout
    rx = re.compile(pattern.encode())
    while True:
        m = rx.search(buf)
        if m:
            buf = buf[m.end():]
            return m
        left = deadline - time.time()
        if left <= 0:
            report("timeout", repr(pattern) + " in " + repr(buf[-200:]))
            return None
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                report("eof", repr(pattern) + " in " + repr(buf[-200:]))
                return None
            buf += data

def send(s):
    os.write(fd, s.encode())

# ash ends its prompt with a cursor position query (ESC [6n); nobody answers.
PROMPT = r"# (\x1b\[6n)?$"

if expect(PROMPT):
    lflag = termios.tcgetattr(fd)[3]
    report("raw", int(not (lflag & (termios.ICANON | termios.ECHO | termios.ISIG))))
    send("stty size\r")
    m = expect(r"(\d+) (\d+)\r?\n")
    report("size1", m.group(1).decode() + "x" + m.group(2).decode() if m else "none")
    expect(PROMPT)
    # The kernel sends SIGWINCH to berth, the pty's foreground process.
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    time.sleep(0.3)
    send("stty size\r")
    m = expect(r"(\d+) (\d+)\r?\n")
    report("size2", m.group(1).decode() + "x" + m.group(2).decode() if m else "none")
    expect(PROMPT)
    send("sleep 100\r")
    time.sleep(0.5)
    t0 = time.time()
    send("\x03")
    report("ctrlc", int(expect(PROMPT, 5) is not None and time.time() - t0 < 5))
    send("echo al''ive\r")
    report("alive", int(expect(r"alive\r?\n", 5) is not None))
    expect(PROMPT)
    send("sleep 100\r")
    time.sleep(0.5)
    send("\x1a")
    m = expect(r"Stopped", 5)
    report("ctrlz", int(m is not None and expect(PROMPT, 5) is not None))
    # Back to the foreground, then ended by ctrl-c: no job is left.
    send("fg\r")
    time.sleep(0.5)
    send("\x03")
    expect(PROMPT)
    send("exit 3\r")

deadline = time.time() + 20
status = None
while time.time() < deadline:
    try:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            buf += os.read(fd, 4096)
    except OSError:
        pass
    w, st = os.waitpid(pid, os.WNOHANG)
    if w == pid:
        status = os.waitstatus_to_exitcode(st)
        break
if status is None:
    report("hung", repr(buf[-300:]))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
report("status", status)
try:
    lflag = termios.tcgetattr(fd)[3]
    report("restored", int(bool(lflag & termios.ICANON) and bool(lflag & termios.ECHO)))
except termios.error as e:
    report("restored", "unknown: %s" % e)
PY

drive() {
    python3 "$T/drive.py" "$BERTH" --root "$T/root" --runroot "$T/run" \
        --plugin-path "$PLUGIN_PATH" "$@" 2>&1
}

check_session() { # check_session WHAT OUTPUT
    local what=$1 out=$2
    assert_contains "$out" $'raw 1' "$what: berth's terminal is raw while it runs"
    assert_contains "$out" $'size1 33x101' "$what: stty size inside is the outer pty's"
    assert_contains "$out" $'size2 40x120' "$what: the new size after SIGWINCH"
    assert_contains "$out" $'ctrlc 1' "$what: ctrl-c interrupts sleep inside, the prompt returns"
    assert_contains "$out" $'alive 1' "$what: the shell lives on after ctrl-c"
    assert_contains "$out" $'ctrlz 1' "$what: ctrl-z stops sleep inside (job control)"
    assert_contains "$out" $'status 3' "$what: exit 3 returns 3"
    assert_contains "$out" $'restored 1' "$what: the terminal is restored after"
    [[ $out == *timeout* || $out == *eof* ]] && note "$what: $out"
    return 0
}

out=$(drive run -it --rm busybox sh)
check_session "run -it" "$out"

# exec -it into a container running in the background.
"$BERTH" --root "$T/root" --runroot "$T/run" --plugin-path "$PLUGIN_PATH" \
    run --rm --name x busybox sleep 60 </dev/null >"$T/x.out" 2>&1 &
BG=$!
for _ in $(seq 100); do
    capture berth inspect x
    [[ $(json_eval 'd[0]["state"]' <<<"$OUT" 2>/dev/null || true) == running ]] && break
    sleep 0.1
done
out=$(drive exec -it x sh)
check_session "exec -it" "$out"
assert_status 0 berth exec -t x tty
assert_match "$OUT" '^/dev/pts/[0-9]+' "exec -t: the process has a pty of the container's devpts"

# -it needs a terminal on stdin, as docker says.
assert_status 125 berth run -it --rm busybox true
assert_error run "-it without a terminal"
assert_contains "$ERR" "the input device is not a TTY" "run -it: says why"
assert_status 125 berth exec -it x true
assert_error exec "-it without a terminal"
# -t alone (docker: a terminal, stdin not read) works without one.
assert_status 0 berth run -t --rm busybox sh -c 'test -t 1 && echo tty'
assert_eq "tty" "${OUT%$'\r'}" "run -t: stdout is a terminal"

capture berth rm -f x
wait "$BG" || true
finish
