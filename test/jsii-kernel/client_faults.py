"""The Python kernel client against kernels that misbehave: each case must end in a clear KernelFailure
(or KernelError) within its deadline, never a hang or a Python crash.

Usage: python3 client_faults.py [--node <node>]. Prints one JSON line per case: {"case", "raised", "message", "seconds"}.
Each fake kernel is a few lines of JavaScript run by the real node.
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jsii_kernel import Kernel, KernelError, KernelFailure  # noqa: E402

HELLO = "process.stdout.write(JSON.stringify({hello: 'fake@0.0.0'}) + '\\n');"
READ_LINES = ("const rl = require('readline').createInterface({input: process.stdin});"
              "const answer = (o) => process.stdout.write(JSON.stringify(o) + '\\n');")

CASES = {
    # exits before saying hello
    "no hello": ("process.exit(3);", lambda k: None, 20),
    # says hello, then ignores every request (the hello itself may take long on a loaded machine)
    "silent": (HELLO + "setInterval(() => {}, 1000);", lambda k: k.request({"api": "stats"}, timeout=1), 20),
    # answers with something that is not JSON
    "garbage": (HELLO + READ_LINES + "rl.on('line', () => process.stdout.write('<html>\\n'));",
                lambda k: k.request({"api": "stats"}), 20),
    # answers with JSON that is not the protocol
    "unknown message": (HELLO + READ_LINES + "rl.on('line', () => answer({surprise: 1}));",
                        lambda k: k.request({"api": "stats"}), 20),
    # dies in the middle of a request
    "dies mid-request": (HELLO + READ_LINES + "rl.on('line', () => process.exit(7));",
                         lambda k: k.request({"api": "stats"}), 20),
    # calls back for an object the host never created: the host answers with an error, the kernel reports it
    "callback for a foreign object": (
        HELLO + READ_LINES + "let n = 0; rl.on('line', (l) => { const m = JSON.parse(l);"
        " if (n++ === 0) answer({callback: {cbid: 'cb1', get: {objref: {'$jsii.byref': 'Object@999'}, property: 'x'}}});"
        " else answer({error: 'host said: ' + (m.complete && m.complete.err), name: '@jsii/kernel.RuntimeError'}); });",
        lambda k: k.request({"api": "stats"}), 20),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", default="node")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, (script, action, timeout) in CASES.items():
            path = os.path.join(tmp, name.replace(" ", "-") + ".js")
            with open(path, "w") as f:
                f.write(script)
            start = time.monotonic()
            out = {"case": name, "raised": None, "message": None}
            k = None
            try:
                k = Kernel(path, node=args.node, timeout=timeout)
                action(k)
            except (KernelFailure, KernelError) as e:
                out.update(raised=type(e).__name__, message=str(e))
            except Exception as e:  # a crash of the client itself: reported, and the test fails
                out.update(raised="crash:" + type(e).__name__, message=str(e))
            finally:
                if k is not None:
                    k.close(timeout=5)
            out["seconds"] = round(time.monotonic() - start, 2)
            print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
