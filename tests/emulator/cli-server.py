#!/usr/bin/python3
"""Runs AWS CLI command lines in one long-lived process, for tests that make
many CLI calls.  Each call goes through the entry point /usr/bin/aws itself
runs (awscli.clidriver.AWSCLIEntryPoint().main(argv)) with the caller's
environment, working directory, stdout and stderr, so it is the real CLI
(argument parsing, botocore serialisation, SigV4, error printing); only the
Python start-up (about 1 s a call) is paid once.  The parsed model files are
shared between calls (one botocore loader per AWS_DATA_PATH).

    cli-server.py DIR

DIR holds two FIFOs the server creates, req and resp.  A client writes the
NUL-separated environment to DIR/env, the NUL-separated arguments to
DIR/args and its working directory to DIR/cwd, then a line to DIR/req; the
server writes DIR/stdout and DIR/stderr and answers the exit status as a
line on DIR/resp.  tests/emulator/emu.sh (emu_cli_start, emu_aws) is the
client.  The server exits on a "quit" line or SIGTERM.
"""
import contextlib
import io
import os
import sys

import awscli
import awscli.clidriver
import botocore.session   # the module awscli's driver uses

AWSCLI_DATA = os.path.join(os.path.dirname(os.path.abspath(awscli.__file__)), "data")
_loaders = {}
_create_loader = botocore.session.create_loader


def shared_loader(search_path_string=None):
    if search_path_string not in _loaders:
        _loaders[search_path_string] = _create_loader(search_path_string)
    return _loaders[search_path_string]


botocore.session.create_loader = shared_loader


def read0(path):
    with open(path, "rb") as f:
        return [x.decode("utf-8", "surrogateescape") for x in f.read().split(b"\0") if x]


def run(d):
    env = dict(kv.split("=", 1) for kv in read0(os.path.join(d, "env")) if "=" in kv)
    args = read0(os.path.join(d, "args"))
    with open(os.path.join(d, "cwd")) as f:
        cwd = f.read().strip()
    # What "import awscli" does to AWS_DATA_PATH in a fresh /usr/bin/aws.
    paths = [os.path.expanduser(os.path.expandvars(x)) for x in env["AWS_DATA_PATH"].split(os.pathsep)] \
        if "AWS_DATA_PATH" in env else []
    env["AWS_DATA_PATH"] = os.pathsep.join(paths + [AWSCLI_DATA])
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    with open(os.path.join(d, "stdout"), "wb") as out, open(os.path.join(d, "stderr"), "wb") as err:
        o = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        e = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
        with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
            try:
                rc = awscli.clidriver.AWSCLIEntryPoint().main(args)
            except SystemExit as x:
                rc = x.code if isinstance(x.code, int) else 1
            sys.stdout.flush()
            sys.stderr.flush()
    return 0 if rc is None else rc


def main():
    d = sys.argv[1]
    for n in ("req", "resp"):
        p = os.path.join(d, n)
        if not os.path.exists(p):
            os.mkfifo(p, 0o600)
    # Both ends held open read-write: a client never blocks on open, and a
    # request written before we read is not lost.
    req = os.fdopen(os.open(os.path.join(d, "req"), os.O_RDWR), "r")
    resp = os.open(os.path.join(d, "resp"), os.O_RDWR)
    home = os.getcwd()
    for line in req:
        if line.strip() == "quit":
            break
        try:
            rc = run(d)
        except Exception as x:   # the harness itself failed: say so, keep serving
            with open(os.path.join(d, "stderr"), "a") as f:
                f.write("cli-server: %s: %s\n" % (type(x).__name__, x))
            rc = 255
        os.chdir(home)
        os.write(resp, b"%d\n" % rc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
