"""A minimal jsii kernel client in Python's standard library.

It speaks the protocol the generated Python bindings use underneath (their `jsii` runtime package is
only on PyPI): the host starts `node jsii-runtime.js`, reads the `{"hello": ...}` line, then writes one
JSON request per line on the process's stdin and reads one JSON response per line from its stdout:

  {"api": "load", "name", "version", "tarball"}       -> {"ok": {"assembly", "types"}}
  {"api": "create", "fqn", "args", "overrides", "interfaces"} -> {"ok": {"$jsii.byref": ...}}
  {"api": "invoke" | "get" | "set", "objref", ...}    -> {"ok": {"result"} | {"value"} | {}}
  {"api": "sinvoke" | "sget", "fqn", ...}             (static members)
  a response may instead be {"callback": {"cbid", "cookie", "get" | "set" | "invoke": ...}}: the kernel
  asks the host for a property or method of a host-implemented object, synchronously, in the middle of
  the request; the host answers with {"complete": {"cbid", "result"}} (or "err" + "name") and keeps
  reading for its own response. (`{"api": "complete"}` is the different, asynchronous callback path.)
  {"error": msg, "name": "@jsii/kernel.RuntimeError" | "@jsii/kernel.Fault", "stack"} is a failed request;
  {"exit": 0} ends the process.

Values: objects travel as {"$jsii.byref": "<fqn>@<id>"}, structs as {"$jsii.struct": {"fqn", "data"}},
enum members as {"$jsii.enum": "<fqn>/<MEMBER>"}, maps as {"$jsii.map": {...}}, dates as {"$jsii.date"}.
The process's own stdout/stderr (console output of the JavaScript code) reach the host on stderr as
JSON lines {"stdout"|"stderr": base64}.

Every read has a deadline: a dead or silent kernel is an error, never a hang.
"""

import base64
import json
import os
import queue
import subprocess
import threading
import time

_EOF = object()


class KernelError(Exception):
    """A request the kernel answered with {"error": ...}."""

    def __init__(self, message, name, stack=None):
        super().__init__(message)
        self.message = message
        self.name = name
        self.stack = stack


class KernelFailure(Exception):
    """The kernel process died, said something that is not the protocol, or did not answer in time."""


class ObjRef:
    """A JavaScript object living in the kernel."""

    def __init__(self, ref, interfaces=None):
        self.ref = ref
        self.interfaces = interfaces or []

    @property
    def fqn(self):
        return self.ref.rsplit("@", 1)[0]

    def to_wire(self):
        return {"$jsii.byref": self.ref}

    def __repr__(self):
        return "ObjRef(%s)" % self.ref


class Struct:
    """A jsii struct (data type) passed by value, as the Python bindings pass their generated dataclasses."""

    def __init__(self, fqn, data):
        self.fqn = fqn
        self.data = data


class EnumValue:
    def __init__(self, fqn, member):
        self.fqn = fqn
        self.member = member

    def __eq__(self, other):
        return isinstance(other, EnumValue) and (self.fqn, self.member) == (other.fqn, other.member)

    def __repr__(self):
        return "%s/%s" % (self.fqn, self.member)


class Implementation:
    """Base for host (Python) objects implementing jsii interfaces.

    Subclasses set `jsii_interfaces` (fqns) and `jsii_properties` / `jsii_methods` (the jsii member
    names the kernel must call back for); the Python attribute names are the snake_case ones the
    Python bindings would generate.
    """

    jsii_interfaces = []
    jsii_properties = {}  # jsii name -> Python attribute name
    jsii_methods = {}  # jsii name -> Python method name




class Kernel:
    def __init__(self, runtime_js, node="node", env=None, timeout=120.0):
        self.timeout = timeout
        self.callbacks = []  # (kind, member) per callback served, in order
        self.console = []  # decoded stdout/stderr of the JavaScript side
        self._host_objects = {}  # "$jsii.byref" -> Implementation
        self._refs = {}  # id(Implementation) -> ObjRef
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [node, runtime_js],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
        )
        self._lines = queue.Queue()
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()
        hello = self._read(self.timeout)
        if "hello" not in hello:
            raise KernelFailure("expected a hello line, got %r" % (hello,))
        self.hello = hello["hello"]

    # -- transport -------------------------------------------------------------------------------

    def _pump_stdout(self):
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(_EOF)

    def _pump_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            try:
                msg = json.loads(line)
                for tag in ("stdout", "stderr"):
                    if isinstance(msg, dict) and tag in msg:
                        self.console.append((tag, base64.b64decode(msg[tag]).decode("utf-8", "replace")))
                        break
                else:
                    self.console.append(("raw", line))
            except ValueError:
                self.console.append(("raw", line))

    def _write(self, obj):
        if self.proc.poll() is not None:
            raise KernelFailure("the kernel process exited with %s" % self.proc.returncode)
        self.proc.stdin.write((json.dumps(obj) + "\n").encode("utf-8"))
        self.proc.stdin.flush()

    def _read(self, timeout):
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise KernelFailure("no answer from the kernel within %.0f s" % timeout)
        if line is _EOF:
            self.proc.wait(timeout=10)
            tail = "".join(text for _, text in self.console[-5:])
            raise KernelFailure("the kernel process exited (code %s): %s" % (self.proc.returncode, tail[-800:]))
        try:
            return json.loads(line)
        except ValueError:
            raise KernelFailure("not a JSON line from the kernel: %r" % line[:200])

    def request(self, req, timeout=None):
        """Sends one request; serves callbacks until the request's own answer arrives."""
        deadline = time.monotonic() + (timeout or self.timeout)
        self._write(req)
        while True:
            msg = self._read(max(0.1, deadline - time.monotonic()))
            if "callback" in msg:
                self._serve_callback(msg["callback"])
                continue
            if "ok" in msg:
                return msg["ok"]
            if "error" in msg:
                raise KernelError(msg["error"], msg.get("name"), msg.get("stack"))
            raise KernelFailure("unexpected message from the kernel: %r" % (msg,))

    # -- callbacks ---------------------------------------------------------------------------------

    def _serve_callback(self, cb):
        cbid = cb["cbid"]
        try:
            if "get" in cb:
                obj = self._host_object(cb["get"]["objref"])
                name = cb["get"]["property"]
                self.callbacks.append(("get", name))
                result = getattr(obj, obj.jsii_properties[name])
            elif "set" in cb:
                obj = self._host_object(cb["set"]["objref"])
                name = cb["set"]["property"]
                self.callbacks.append(("set", name))
                setattr(obj, obj.jsii_properties[name], self.from_wire(cb["set"]["value"]))
                result = None
            elif "invoke" in cb:
                obj = self._host_object(cb["invoke"]["objref"])
                name = cb["invoke"]["method"]
                self.callbacks.append(("invoke", name))
                args = [self.from_wire(a) for a in cb["invoke"].get("args", [])]
                result = getattr(obj, obj.jsii_methods[name])(*args)
            else:
                raise KernelFailure("unknown callback kind: %r" % (cb,))
        except Exception as e:  # the host's error travels back into JavaScript as an exception
            self._write({"complete": {"cbid": cbid, "err": "%s: %s" % (type(e).__name__, e),
                                      "name": "@jsii/kernel.RuntimeError"}})
            return
        self._write({"complete": {"cbid": cbid, "result": self.to_wire(result)}})

    def _host_object(self, objref):
        ref = objref["$jsii.byref"]
        if ref not in self._host_objects:
            raise KernelFailure("callback for an object the host did not create: %s" % ref)
        return self._host_objects[ref]

    # -- values ------------------------------------------------------------------------------------

    def to_wire(self, value):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, ObjRef):
            return value.to_wire()
        if isinstance(value, Implementation):
            return self._ref_for_host_object(value).to_wire()
        if isinstance(value, EnumValue):
            return {"$jsii.enum": "%s/%s" % (value.fqn, value.member)}
        if isinstance(value, Struct):
            return {"$jsii.struct": {"fqn": value.fqn, "data": {k: self.to_wire(v) for k, v in value.data.items() if v is not None}}}
        if isinstance(value, (list, tuple)):
            return [self.to_wire(v) for v in value]
        if isinstance(value, dict):
            return {"$jsii.map": {k: self.to_wire(v) for k, v in value.items()}}
        raise TypeError("cannot pass %r to the kernel" % (value,))

    def from_wire(self, value):
        if isinstance(value, list):
            return [self.from_wire(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "$jsii.byref" in value:
            ref = value["$jsii.byref"]
            if ref in self._host_objects:
                return self._host_objects[ref]
            return ObjRef(ref, value.get("$jsii.interfaces"))
        if "$jsii.enum" in value:
            fqn, member = value["$jsii.enum"].rsplit("/", 1)
            return EnumValue(fqn, member)
        if "$jsii.map" in value:
            return {k: self.from_wire(v) for k, v in value["$jsii.map"].items()}
        if "$jsii.date" in value:
            return value["$jsii.date"]
        return {k: self.from_wire(v) for k, v in value.items()}

    def _ref_for_host_object(self, obj):
        """Creates the kernel-side peer of a Python object the first time it is passed, as the bindings do."""
        ref = self._refs.get(id(obj))
        if ref is None:
            overrides = [{"property": p} for p in obj.jsii_properties] + [{"method": m} for m in obj.jsii_methods]
            out = self.request({"api": "create", "fqn": "Object", "args": [], "overrides": overrides,
                                "interfaces": list(obj.jsii_interfaces)})
            ref = ObjRef(out["$jsii.byref"], out.get("$jsii.interfaces"))
            self._refs[id(obj)] = ref
            self._host_objects[ref.ref] = obj
        return ref

    # -- API ---------------------------------------------------------------------------------------

    def load(self, name, version, tarball, timeout=None):
        return self.request({"api": "load", "name": name, "version": version, "tarball": tarball}, timeout)

    def create(self, fqn, *args):
        out = self.request({"api": "create", "fqn": fqn, "args": [self.to_wire(a) for a in args]})
        return ObjRef(out["$jsii.byref"], out.get("$jsii.interfaces"))

    def invoke(self, obj, method, *args):
        out = self.request({"api": "invoke", "objref": self.to_wire(obj), "method": method,
                            "args": [self.to_wire(a) for a in args]})
        return self.from_wire(out.get("result"))

    def sinvoke(self, fqn, method, *args):
        out = self.request({"api": "sinvoke", "fqn": fqn, "method": method, "args": [self.to_wire(a) for a in args]})
        return self.from_wire(out.get("result"))

    def get(self, obj, prop):
        return self.from_wire(self.request({"api": "get", "objref": self.to_wire(obj), "property": prop}).get("value"))

    def sget(self, fqn, prop):
        return self.from_wire(self.request({"api": "sget", "fqn": fqn, "property": prop}).get("value"))

    def set(self, obj, prop, value):
        self.request({"api": "set", "objref": self.to_wire(obj), "property": prop, "value": self.to_wire(value)})

    def close(self, timeout=30):
        """Asks the kernel to exit; returns its exit code (killing it if it does not leave in time)."""
        if self.proc.poll() is None:
            try:
                self._write({"exit": 0})
                self.proc.stdin.close()
            except (BrokenPipeError, KernelFailure):
                pass
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
