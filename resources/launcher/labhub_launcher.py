"""LabHub's pre-warmed launcher for local single-user servers.

A root-owned process that imports JupyterHub's single-user server (and the notebook app it wraps)
once, then forks a server per request, so a start no longer pays the ~1.5 CPU-seconds of imports.
The hub starts and supervises it (hub/spawner/launcher.ts); it is reachable only by root through a
0600 unix socket in a 0700 root-owned directory, and every connection's peer must be uid 0
(SO_PEERCRED).

Protocol, one connection per request, a first line naming the operation:

  ping\n                     -> {"ok": true, "pid", "forks", "rssKb", "app", "python"}
  exit <pid> <starttime>\n   -> {"ok": true, "known": bool, "exitCode", "signal"}
  spawn\n<json>\n            -> {"pid": N} or {"error": "..."}; the hub answers "go\n" once it
                                has recorded the pid, and only then does the server run

The launcher reads nothing but that first line: for `spawn` it forks at once and the child reads
the request (user, environment with the server's API token, log path, cgroup files). So no
student's environment or token ever enters the long-lived process, and nothing of one student's
request can be found in the memory of another student's server.

The child, in this order: setsid; joins the server's cgroups (as root, before it runs any code of
the server's); opens the per-user log the hub prepared (O_NOFOLLOW, root-owned regular file);
points stdin at /dev/null and stdout/stderr at the log; sets the umask; initgroups + setresgid +
setresuid to the student (verified); becomes dumpable again as an exec would make it; changes to
the home; replaces its environment with exactly the spawn environment; reports its pid; waits for
"go"; closes every other descriptor (the launcher socket included); runs the entry-point script
as `python3 <script>` would (runpy, `__main__`).

Exit codes: 0 = retired (max forks or memory), 75 = the single-user packages changed on disk,
anything else = a crash. The hub restarts it in every case (with backoff after crashes).

Only the standard library is used here (plus what is pre-imported). No threads, no asyncio and
no logging module in the launcher itself: a forked child must not inherit any of them.
"""
import ctypes
import errno
import gc
import importlib
import json
import os
import pwd
import random
import resource
import select
import signal
import socket
import stat
import struct
import sys
import time
import traceback

RETIRED = 0
PACKAGES_CHANGED = 75
READY_PREFIX = 'LABHUB-LAUNCHER-READY '
# modules the notebook app imports while it starts (measured with notebook 6.4.12 and
# jupyterhub 3.0 on Debian 12); each is best effort, so another version only loses speed
PRELOAD = [
    'notebook.notebookapp',
    'notebook.tree.handlers', 'notebook.notebook.handlers', 'notebook.edit.handlers',
    'notebook.view.handlers', 'notebook.files.handlers', 'notebook.nbconvert.handlers',
    'notebook.bundler.handlers', 'notebook.kernelspecs.handlers', 'notebook.services.api.handlers',
    'notebook.services.config.handlers', 'notebook.services.contents.handlers',
    'notebook.services.kernels.handlers', 'notebook.services.kernelspecs.handlers',
    'notebook.services.nbconvert.handlers', 'notebook.services.security.handlers',
    'notebook.services.sessions.handlers', 'notebook.services.shutdown',
    'notebook.terminal', 'notebook.terminal.handlers', 'terminado',
    'IPython', 'IPython.core.completer', 'IPython.terminal.embed', 'IPython.terminal.ipapp',
    'IPython.core.magics', 'IPython.lib.clipboard', 'IPython.extensions.storemagic',
    'jedi', 'jedi.api', 'parso', 'pexpect', 'nest_asyncio', 'pdb', 'pydoc', 'cProfile', 'pstats',
    'xml.dom.minidom', 'pygments.formatters.terminal256', 'pygments.console', 'jupyter_core.migrate',
    'jinja2.ext', 'runpy', 'filecmp', 'colorsys', 'pickleshare', 'stack_data', 'prompt_toolkit',
    'jupyter_client', 'jupyter_client.kernelspec', 'jupyter_client.ioloop', 'zmq', 'zmq.eventloop.zmqstream',
    'nbformat', 'tornado.web', 'tornado.httpserver', 'tornado.websocket', 'prometheus_client',
    'send2trash', 'importlib.metadata',
]

PR_SET_NAME = 15
PR_SET_DUMPABLE = 4
PR_SET_PDEATHSIG = 1


def say(msg):
    """A line on the launcher's own stderr (the hub's launcher.log)."""
    sys.stderr.write('[labhub-launcher %d] %s\n' % (os.getpid(), msg))
    sys.stderr.flush()


def libc():
    return ctypes.CDLL(None, use_errno=True)


def rss_kb(pid='self'):
    try:
        with open('/proc/%s/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def start_time(pid):
    """Field 22 of /proc/<pid>/stat (works for zombies too), or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            text = f.read()
    except OSError:
        return None
    rest = text[text.rindex(')') + 2:].split()
    return int(rest[19])


def package_files():
    """Every imported module's file, the package directories, and each installed distribution's
    metadata file: an upgrade (dpkg, pip) replaces some of them, and so changes their identity."""
    files = {getattr(mod, '__file__', None) for mod in list(sys.modules.values())}
    for d in sys.path:
        if not os.path.isdir(d):
            continue
        files.add(d)
        for entry in os.listdir(d):
            if entry.endswith('.dist-info'):
                files.add(os.path.join(d, entry, 'METADATA'))
            elif entry.endswith('.egg-info'):
                path = os.path.join(d, entry)
                files.add(os.path.join(path, 'PKG-INFO') if os.path.isdir(path) else path)
    files.discard(None)
    return sorted(files)


def package_stamp():
    stamp = []
    for path in package_files():
        try:
            st = os.stat(path)
        except OSError:
            stamp.append((path, None))
            continue
        stamp.append((path, st.st_ino, st.st_mtime_ns, st.st_size))
    return hash(tuple(stamp))


def interpreter_of(script):
    """The interpreter in a script's `#!` line, resolved; None when there is none."""
    with open(script, 'rb') as f:
        first = f.readline(512)
    if not first.startswith(b'#!'):
        return None
    parts = first[2:].decode('utf-8', 'replace').split()
    return os.path.realpath(parts[0]) if parts else None


class Launcher:
    def __init__(self, args):
        self.socket_path = args['socket']
        self.max_forks = args['max_forks']
        self.max_rss_kb = args['max_rss_mb'] * 1024
        self.hub_pid = os.getppid()
        self.app = os.environ.get('JUPYTERHUB_SINGLEUSER_APP', '')
        self.forks = 0
        self.children = set()
        # pid -> (starttime, exitCode, signal); bounded
        self.exits = {}
        self.stamp = None
        self.stamp_checked = 0.0
        self.sock = None

    # --- start-up ------------------------------------------------------------------------------

    def preload(self):
        t0 = time.monotonic()
        import jupyterhub.singleuser  # noqa: F401  (builds the app class from JUPYTERHUB_SINGLEUSER_APP)
        missing = []
        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except Exception:  # another version lays its modules out differently: only slower
                missing.append(name)
        gc.collect()
        # pages shared with every forked server stay shared: no collector pass touches them again
        if hasattr(gc, 'freeze'):
            gc.freeze()
        self.stamp = package_stamp()
        self.stamp_checked = time.monotonic()
        say('pre-imported %d modules in %.2f s (not found: %s)' % (len(sys.modules), time.monotonic() - t0, ', '.join(missing) or 'none'))

    def listen(self):
        directory = os.path.dirname(self.socket_path)
        st = os.lstat(directory)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o077:
            raise SystemExit('launcher: %s must be a directory owned by root with mode 0700' % directory)
        try:
            os.unlink(self.socket_path)
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            sock.bind(self.socket_path)
        finally:
            os.umask(old)
        os.chmod(self.socket_path, 0o600)
        sock.listen(128)
        sock.setblocking(False)
        self.sock = sock

    # --- the loop ------------------------------------------------------------------------------

    def serve(self):
        sys.stdout.write(READY_PREFIX + json.dumps({'pid': os.getpid(), 'app': self.app, 'python': sys.executable}) + '\n')
        sys.stdout.flush()
        while True:
            try:
                readable, _, _ = select.select([self.sock], [], [], 0.25)
            except InterruptedError:
                readable = []
            self.reap()
            if os.getppid() != self.hub_pid:
                say('the hub is gone; exiting')
                self.shutdown(RETIRED)
            now = time.monotonic()
            if now - self.stamp_checked > 10:
                self.check_packages()
            if not readable:
                continue
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                continue
            try:
                self.handle(conn)
            except Exception as err:  # one bad request never stops the launcher
                say('request failed: %r' % (err,))
            finally:
                conn.close()

    def check_packages(self):
        self.stamp_checked = time.monotonic()
        if package_stamp() != self.stamp:
            say('single-user packages changed on disk; restarting to load the new versions')
            self.shutdown(PACKAGES_CHANGED)

    def reap(self):
        while self.children:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                self.children.clear()
                return
            if info is None:
                return
            pid = info.si_pid
            started = start_time(pid)
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                status = None
            self.children.discard(pid)
            if status is None:
                continue
            if os.WIFSIGNALED(status):
                code, sig = None, signal.Signals(os.WTERMSIG(status)).name
            else:
                code, sig = os.WEXITSTATUS(status), None
            self.exits[pid] = (started, code, sig)
            if len(self.exits) > 1000:
                del self.exits[next(iter(self.exits))]

    def handle(self, conn):
        conn.setblocking(True)
        conn.settimeout(2.0)
        cred = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize('3i'))
        _, uid, _ = struct.unpack('3i', cred)
        if uid != 0:
            say('refused a connection from uid %d (only root may use the launcher)' % uid)
            return
        line = read_line(conn, 64)
        if line is None:
            return
        words = line.split()
        op = words[0] if words else ''
        if op == 'ping':
            send(conn, {'ok': True, 'pid': os.getpid(), 'forks': self.forks, 'rssKb': rss_kb(), 'app': self.app, 'python': sys.executable})
        elif op == 'exit' and len(words) == 3:
            pid, started = int(words[1]), int(words[2])
            known = self.exits.get(pid)
            if known and known[0] == started:
                send(conn, {'ok': True, 'known': True, 'exitCode': known[1], 'signal': known[2]})
            else:
                send(conn, {'ok': True, 'known': False})
        elif op == 'spawn':
            # a spawn right after an upgrade must not mix old pre-imported and new lazily imported code
            if time.monotonic() - self.stamp_checked > 2:
                self.check_packages()
            self.fork(conn)
        else:
            send(conn, {'error': 'unknown operation'})

    def fork(self, conn):
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            child_main(self, conn)  # never returns
        self.forks += 1
        self.children.add(pid)
        if self.forks >= self.max_forks:
            say('retiring after %d forks' % self.forks)
            self.shutdown(RETIRED)
        if rss_kb() > self.max_rss_kb:
            say('retiring: resident memory %d kB is over the limit' % rss_kb())
            self.shutdown(RETIRED)

    def shutdown(self, code):
        try:
            os.unlink(self.socket_path)
        except OSError:
            pass
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def read_line(conn, limit):
    """One line, read a byte at a time so nothing after it is taken from the socket."""
    buf = b''
    while len(buf) < limit:
        try:
            b = conn.recv(1)
        except OSError:
            return None
        if not b:
            return None
        if b == b'\n':
            return buf.decode('ascii', 'replace')
        buf += b
    return None


def read_request(conn, limit=1 << 20):
    buf = b''
    while not buf.endswith(b'\n'):
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError('the hub closed the connection before the request was complete')
        buf += chunk
        if len(buf) > limit:
            raise ValueError('request too large')
    return json.loads(buf.decode('utf-8'))


def send(conn, obj):
    conn.sendall((json.dumps(obj) + '\n').encode('utf-8'))


# --- the child -----------------------------------------------------------------------------------


def child_main(launcher, conn):
    """Becomes the student's server. Never returns into the launcher's loop."""
    code = 1
    try:
        # the launcher's own handlers and socket are not the server's
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        launcher.sock.close()
        try:
            script, argv = prepare_child(launcher, conn)
        except Exception as err:  # reported to the hub, which then starts the server cold
            try:
                send(conn, {'error': str(err) or err.__class__.__name__})
            except OSError:
                pass
            os._exit(1)
        conn.close()
        # from here on stdout/stderr are the student's log
        code = run_server(script, argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
    try:
        # what the interpreter does at exit: join non-daemon threads, run atexit handlers, flush
        import atexit
        import threading
        threading._shutdown()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def prepare_child(launcher, conn):
    conn.settimeout(10.0)
    req = read_request(conn)
    user = req['user']
    pw = pwd.getpwnam(user)
    uid, gid, home = pw.pw_uid, pw.pw_gid, pw.pw_dir
    if uid == 0 or gid == 0:
        raise ValueError('refusing to start a server as root')
    if req.get('uid') not in (None, uid) or req.get('gid') not in (None, gid):
        raise ValueError('uid/gid of %s do not match the hub\'s' % user)
    env = req['env']
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ValueError('bad environment')
    if env.get('JUPYTERHUB_SINGLEUSER_APP', '') != launcher.app:
        raise ValueError('JUPYTERHUB_SINGLEUSER_APP %r differs from the pre-imported %r' % (env.get('JUPYTERHUB_SINGLEUSER_APP', ''), launcher.app))
    argv = [str(a) for a in req['argv']]
    script = argv[0]
    st = os.stat(script)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise ValueError('%s is not a root-owned file that only root can change' % script)
    if interpreter_of(script) != os.path.realpath(sys.executable):
        raise ValueError('%s is not run by %s' % (script, sys.executable))
    home = req.get('home') or home

    os.setsid()
    # the server's cgroups, before it runs any code of its own (as hub/quota/cgroup-values.ts's sh wrapper)
    for procs in req.get('cgroupProcs') or []:
        if not os.path.isabs(procs) or os.path.basename(procs) != 'cgroup.procs':
            raise ValueError('bad cgroup file %r' % procs)
        with open(procs, 'w') as f:
            f.write(str(os.getpid()))
    log_fd = os.open(req['logFile'], os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC)
    lst = os.fstat(log_fd)
    if not stat.S_ISREG(lst.st_mode) or lst.st_uid != 0:
        raise ValueError('the log file is not a root-owned regular file')
    null_fd = os.open('/dev/null', os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(null_fd)
    os.close(log_fd)
    os.umask(int(req.get('umask', 0o022)))

    os.initgroups(user, gid)
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        raise ValueError('could not switch to %s' % user)
    try:
        os.setuid(0)
    except PermissionError:
        pass
    else:
        raise ValueError('could regain root after switching to %s' % user)
    c = libc()
    # an exec as the user would make the process dumpable (its /proc files the user's); nothing of
    # other students is in this memory (the launcher never reads requests), so the same is safe here
    c.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    c.prctl(PR_SET_NAME, ctypes.c_char_p(os.path.basename(script).encode()[:15]), 0, 0, 0)
    os.chdir(home)
    os.environ.clear()
    os.environ.update(env)
    show_as(interpreter_line(script) + argv, env)

    send(conn, {'pid': os.getpid()})
    if read_line(conn, 8) != 'go':
        raise ValueError('the hub did not confirm the start')
    return script, argv


def interpreter_line(script):
    """The interpreter and its argument from the `#!` line, as the kernel puts them in argv."""
    with open(script, 'rb') as f:
        first = f.readline(512)
    return first[2:].decode('utf-8', 'replace').strip().split(None, 1)


def show_as(argv, env):
    """Makes /proc/<pid>/cmdline and /proc/<pid>/environ what an exec of the server would show.

    Those files read the memory where the kernel put the launcher's own argv and environment; the
    hub starts the launcher with room to spare in both (a padding argument and variable), and the
    new strings are written over the old ones, NUL-padded. Without room, the launcher's (clean,
    root-free) ones stay visible there; the server's real environment is os.environ either way.
    """
    with open('/proc/self/stat') as f:
        text = f.read()
    fields = [int(x) for x in text[text.rindex(')') + 2:].split()[45:49]]
    arg_start, arg_end, env_start, env_end = fields
    for start, end, strings in ((arg_start, arg_end, argv), (env_start, env_end, ['%s=%s' % kv for kv in env.items()])):
        data = b''.join(s.encode('utf-8', 'surrogateescape') + b'\0' for s in strings)
        size = end - start
        if 0 < len(data) <= size:
            ctypes.memmove(start, data + b'\0' * (size - len(data)), size)


def user_site_paths(script, env):
    """sys.path as `python3 <script>` started with this environment would have it."""
    path = [p for p in sys.path if p]
    front = [os.path.dirname(os.path.realpath(script))]
    front += [p for p in env.get('PYTHONPATH', '').split(':') if p]
    tail = list(path)
    if not env.get('PYTHONNOUSERSITE'):
        import site
        base = env.get('PYTHONUSERBASE') or os.path.join(env.get('HOME', ''), '.local')
        user_site = os.path.join(base, 'lib', 'python%d.%d' % sys.version_info[:2], 'site-packages')
        if os.path.isdir(user_site):
            at = next((i for i, p in enumerate(tail) if p.endswith('-packages')), len(tail))
            tail.insert(at, user_site)
            site.USER_BASE, site.USER_SITE, site.ENABLE_USER_SITE = base, user_site, True
    return front + tail


def run_server(script, argv):
    # close everything but stdio: the launcher socket, the hub connection, anything imported code opened
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    os.closerange(3, soft if 3 < soft < 1 << 30 else 1 << 30)
    random.seed()
    sys.path[:] = user_site_paths(script, os.environ)
    sys.argv[:] = argv
    import runpy
    runpy.run_path(script, run_name='__main__')
    return 0


def parse_args(argv):
    args = {'socket': None, 'max_forks': 500, 'max_rss_mb': 400}
    it = iter(argv)
    for a in it:
        if a == '--socket':
            args['socket'] = next(it)
        elif a == '--max-forks':
            args['max_forks'] = int(next(it))
        elif a == '--max-rss-mb':
            args['max_rss_mb'] = int(next(it))
        elif a == '--pad':
            next(it)  # room for the server's command line (see show_as)
        else:
            raise SystemExit('launcher: unknown argument %s' % a)
    if not args['socket']:
        raise SystemExit('launcher: --socket PATH is required')
    return args


def main():
    if os.getuid() != 0:
        raise SystemExit('launcher: must run as root')
    args = parse_args(sys.argv[1:])
    # leave with the hub: SIGTERM when it dies (the loop also watches getppid)
    libc().prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    launcher = Launcher(args)
    signal.signal(signal.SIGTERM, lambda *_: launcher.shutdown(RETIRED))
    launcher.preload()
    launcher.listen()
    launcher.serve()


if __name__ == '__main__':
    main()
