# A process that opens, hides and closes sockets when told, for the recorder's end-to-end tests
# (test/cli/record-capture.test.ts). One command per line on stdin, one answer per line on stdout:
#   listen tcp|udp            -> "ok ID PORT"
#   connect PORT              -> "ok CLIENT_ID CLIENT_PORT SERVER_ID" (accepts it too when PORT is ours)
#   hide ID                   -> "ok": the socket is sent over a UNIX socketpair (SCM_RIGHTS) and closed
#                                here, so it stays open with no process holding it: an owner nobody can read
#   close ID                  -> "ok" (a client closing first leaves an ownerless FIN_WAIT2 on its side)
#   load PATH                 -> "ok": dlopen() a shared library (ctypes.CDLL), a module loaded late
#   burst PORT N              -> "ok LIST": N connections to our listener PORT, each accepted and closed
#                                within milliseconds; LIST is "client:server" local ports, comma-separated
#   pid                       -> "ok PID"
import ctypes
import os
import socket
import sys
import time

socks = {}
listeners = {}
hidden = []
next_id = 1


def add(s):
    global next_id
    i = next_id
    next_id += 1
    socks[i] = s
    return i


def answer(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    cmd = line.split()
    if not cmd:
        continue
    try:
        if cmd[0] == "listen":
            if cmd[1] == "tcp":
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind(("127.0.0.1", 0))
                s.listen(256)
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("127.0.0.1", 0))
            i = add(s)
            port = s.getsockname()[1]
            if cmd[1] == "tcp":
                listeners[port] = s
            answer("ok %d %d" % (i, port))
        elif cmd[0] == "connect":
            port = int(cmd[1])
            c = socket.create_connection(("127.0.0.1", port))
            ci = add(c)
            si = 0
            if port in listeners:
                a, _ = listeners[port].accept()
                si = add(a)
            answer("ok %d %d %d" % (ci, c.getsockname()[1], si))
        elif cmd[0] == "hide":
            s = socks.pop(int(cmd[1]))
            left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            socket.send_fds(left, [b"x"], [s.fileno()])
            s.close()
            # Both ends of the pair are kept: the in-flight descriptor keeps the socket alive.
            hidden.append((left, right))
            answer("ok")
        elif cmd[0] == "close":
            s = socks.pop(int(cmd[1]))
            s.close()
            answer("ok")
        elif cmd[0] == "load":
            ctypes.CDLL(cmd[1])
            answer("ok")
        elif cmd[0] == "burst":
            port = int(cmd[1])
            n = int(cmd[2])
            pairs = []
            for _ in range(n):
                c = socket.create_connection(("127.0.0.1", port))
                a, _ = listeners[port].accept()
                pairs.append("%d:%d" % (c.getsockname()[1], a.getsockname()[1]))
                # Server side closes first: the client's end leaves no TIME_WAIT to outlive the test.
                a.close()
                c.close()
                time.sleep(0.001)
            answer("ok " + ",".join(pairs))
        elif cmd[0] == "pid":
            answer("ok %d" % os.getpid())
        else:
            answer("error unknown command")
    except Exception as e:  # the test reads the reason
        answer("error %s" % e)
