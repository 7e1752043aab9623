"""No code execution: injection attempts are refused, names that clash with generated code
work or are refused with a reason, and comments cannot break out of the module docstring."""

from __future__ import annotations

import sys
import types

import pytest

import symback

# --- an audit hook that records what would be a side effect ----------------------------------
# Audit hooks cannot be removed; this one only records while `_recording` is set.

_recording: list[tuple[str, tuple]] | None = None
_WATCHED = {"os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn",
            "os.fork", "exec", "compile", "open", "import", "socket.connect", "os.remove",
            "os.rename", "builtins.input", "ctypes.dlopen", "os.chmod", "shutil.rmtree"}


def _hook(event: str, args: tuple) -> None:
    if _recording is not None and event in _WATCHED:
        _recording.append((event, args))


sys.addaudithook(_hook)


def events_while(fn, *args, **kw) -> list[tuple[str, tuple]]:
    global _recording
    _recording = []
    try:
        fn(*args, **kw)
    except symback.SymbackError:
        pass
    finally:
        events, _recording = _recording, None
    return events


MARK = "PWNED_BY_SYMBACK_TEST"

INJECTIONS = [
    f"__import__('os').system('touch /tmp/{MARK}')",
    f"__import__(\"os\").system(\"touch /tmp/{MARK}\")",
    "x.__class__.__mro__[1].__subclasses__()",
    "().__class__.__bases__[0]",
    "x.real", "sin.__globals__", "math.sin(x)", "np.sin(x)", "numpy.exp(x)",
    f"lambda: __import__('os').system('{MARK}')", "lambda x: x",
    "[c for c in ().__class__.__base__.__subclasses__()]", "{x for x in y}", "(x for x in y)",
    f"f'{{__import__(\"os\").system(\"{MARK}\")}}'", "f'{x}'", "b'x'", "r'x'", "'x'",
    "(y := __import__('os'))", "(y := 3) + y", f"x \\\n + {MARK}", "x\\x41",
    "eval('1')", "exec('1')", "compile('1', '', 'eval')", "open('/etc/passwd')",
    "getattr(x, 'real')", "globals()", "vars()", "breakpoint()", "input()",
    "__builtins__", "__import__", "__name__", "__x", "__class__", "x.__dict__",
    "import os", "from os import system", "os.system('ls')", "del x", "global x",
    "x if y else z", "x and y", "not x", "x or y", "x in y", "x is y", "yield x", "await x",
    "assert x", "pass", "return x", "raise x", "with x: y", "try: x", "async", "class C: x",
    "def f(): x", "x[0]", "x[::-1]", "x;\nimport os", "x # ok\nimport os",
    "ｅｘｅｃ(x)", "ｓｉｎ(x)", "х + 1",            # fullwidth, and Cyrillic 'х' (U+0445)
    "\u0455in(x)", "x\u200b+1", "x\u202e+1", "\ufeffx", "x + ℯ", "x + π", "x + ２",
    "𝐱 + 1", "sin(x)\u0000", "x @ y", "x % y", "x // y", "x << 1", "x | y", "~x", "x & y",
    "*x", "**x", "x ** ** y", "print(x)", "type(x)", "match", "case", "_",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_is_refused_without_side_effect(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    events = events_while(symback.compile, text)
    with pytest.raises(symback.ParseError) as info:
        symback.compile(text)
    err = info.value
    assert err.line is not None and err.column is not None
    assert err.message and "\n" not in err.message
    # nothing the text asked for happened: no process, no file, no code built from it
    assert not any(e in ("os.system", "subprocess.Popen", "os.exec", "os.posix_spawn",
                         "os.spawn", "os.fork", "socket.connect") for e, _ in events)
    for event, args in events:
        if event in ("exec", "compile"):
            source = args[0]
            assert not (isinstance(source, (str, bytes)) and MARK in str(source))
        if event == "open":
            assert MARK not in str(args[0])
    assert not list(tmp_path.iterdir())
    assert not (tmp_path.parent / MARK).exists()


def test_compile_itself_executes_nothing_from_the_text():
    """The text is never passed to exec/eval/compile: only the rendered module is, and only
    when `.module` is first used."""
    text = "x * y  # " + MARK
    symback.compile("x")                     # Jinja loads (compiles, execs) its templates once
    events = events_while(symback.compile, text)
    executed = [a[0] for e, a in events if e == "exec"]
    assert all(getattr(code, "co_filename", "").endswith(".j2") for code in executed)
    compiled_sources = [str(a[0]) for e, a in events if e == "compile"]
    assert not any(MARK in src for src in compiled_sources)


def test_messages_say_why():
    cases = {
        "__import__('os')": "names starting with '__' are not allowed",
        "x.real": "attribute access",
        "lambda: 1": "lambdas are not supported",
        "x[0]": "is not declared as an array",
        "'x'": "strings are not supported",
        "(y := 1)": "':' is not supported",
        "x \\\n+ 1": "backslashes are not supported",
        "import os": "imports are not supported",
        "ｘ + 1": "non-ASCII character",
        "x if y else z": "use where(cond, a, b)",
        "x = 1\nx = 2": "already bound",
        "eval(x)": "unknown function 'eval'",
        "math.sin(x)": "attribute access",
    }
    for text, words in cases.items():
        with pytest.raises(symback.ParseError, match=None) as info:
            symback.compile(text)
        assert words in info.value.message, (text, info.value.message)


# --- names that clash with what generated code uses --------------------------------------------

CLASHING = [
    ("math", "np", "numpy"), ("print", "exec", "float"), ("forward", "gradient", "value_and_grad"),
    ("jacobian", "hessian", "hvp"), ("INPUTS", "WRT", "OUTPUTS"), ("d_x", "x", "d_d_x"),
    ("_t1", "_t2", "_g1"), ("math", "math_", "math__"), ("_shape", "_expand", "_matrix"),
    ("_erf", "_erfc", "_erfc_pos"), ("v_x", "x", "v_v_x"), ("int", "len", "range"),
    ("EXPRESSION", "value_and_jacobian", "jvp"), ("self", "cls", "args"), ("nan", "inf", "pi_"),
]

TEMPLATE = "p = {0} * {1} + sin({0}) * {2}\nq = where({1} > 0, sqrt({1}), {2})\np * q - {2}**2"
POINT = (0.7, 1.3, -0.4)


def _same(a, b):
    """Equal values (bit for bit: the same program under other names), tuples or arrays."""
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    import numpy
    return numpy.array_equal(numpy.asarray(a), numpy.asarray(b))


@pytest.mark.parametrize("backend", ["python", "numpy"])
@pytest.mark.parametrize("names", CLASHING, ids="-".join)
def test_clashing_names_work_end_to_end(names, backend):
    """Compile with hostile names and with plain names: same values, and the module still
    lists the user's names in INPUTS."""
    plain = symback.compile(TEMPLATE.format("a", "b", "c"), backend=backend, hessian=True)
    text = TEMPLATE.format(*names)
    hostile = symback.compile(text, backend=backend, hessian=True)
    module = hostile.module
    assert hostile.inputs == names
    assert module.INPUTS == names and module.WRT == names
    assert isinstance(module.forward, types.FunctionType)
    for fn in ("forward", "gradient", "value_and_grad", "hessian"):
        assert _same(getattr(module, fn)(*POINT), getattr(plain.module, fn)(*POINT)), fn
    v = (0.3, -0.2, 0.5)
    assert _same(module.hvp(*POINT, *v), plain.module.hvp(*POINT, *v))
    # keyword calls use the printed (possibly renamed) parameter names; positional order is
    # INPUTS order, which is what the docs promise
    assert module.forward.__code__.co_argcount == 3


def test_input_and_its_adjoint_name_both_inputs():
    """`x` and `d_x` are both inputs: the adjoint of x must not overwrite the input d_x."""
    f = symback.compile("x * d_x + x**2 * d_x**3")
    assert f.inputs == ("x", "d_x")
    x, dx = 1.5, -0.5
    value, (gx, gdx) = f.value_and_grad(x, dx)
    assert value == pytest.approx(x * dx + x**2 * dx**3)
    assert gx == pytest.approx(dx + 2 * x * dx**3)
    assert gdx == pytest.approx(x + 3 * x**2 * dx**2)


def test_named_intermediate_and_input_called_like_its_adjoint():
    f = symback.compile("p = x * y\nd_p = 3\np * d_p + d_x", wrt=["x", "y", "d_x"])
    value, grads = f.value_and_grad(2.0, 5.0, 7.0)
    assert value == 37.0 and grads == (15.0, 6.0, 1.0)


@pytest.mark.parametrize("name", ["if", "lambda", "None", "True", "class", "import", "match",
                                  "case", "type", "_", "__x", "__builtins__", "async", "await"])
def test_keywords_and_dunder_names_are_refused_with_a_reason(name):
    with pytest.raises(symback.ParseError) as info:
        symback.compile(f"{name} + 1")
    assert repr(name) in info.value.message
    with pytest.raises(symback.SymbackError):
        symback.compile("x + 1", wrt=["x", name])
    with pytest.raises(symback.ParseError):
        symback.compile(f"# vars: x {name}\nx + 1")


def test_function_and_constant_names_as_variables_are_refused():
    for text, words in [("sin + 1", "is a function"), ("sin = x", "function name"),
                        ("pi = 3", "constant"), ("x(1)", "unknown function")]:
        with pytest.raises(symback.ParseError) as info:
            symback.compile(text)
        assert words in info.value.message


# --- comments are copied into the docstring: they must stay inert ------------------------------

COMMENTS = [
    '"""', "'''", '"""; import os; os.system("echo pwned")  #', "\\", "ends with a backslash \\",
    '\\"""', "\r", "\rimport os", "caf\u00e9 \u00fc \u4e2d\u6587 \U0001F600", "\x00\x01\x1b[2J",
    "\u2028import os\u2029", "\\N{BULLET} \\u0041 \\x41 \\0", "{{ jinja }} {% if x %}{% endif %}",
    "\t tab", "\ud800", "\"\"\" + '''", '""""""', "# nested # comments", "$(rm -rf /)",
]


@pytest.mark.parametrize("backend", ["python", "numpy"])
@pytest.mark.parametrize("comment", COMMENTS)
def test_comments_cannot_inject_code(comment, backend):
    text = f"# {comment}\np = x * y  # {comment}\np + 1  # {comment}"
    f = symback.compile(text, backend=backend, name=comment or "x")
    module = f.module
    assert f.value_and_grad(2.0, 3.0) == (7.0, (3.0, 2.0))
    public = {k for k in vars(module) if not k.startswith("__")}
    allowed = {"math", "numpy", "INPUTS", "WRT", "OUTPUTS", "forward", "gradient",
               "value_and_grad", "_expand", "_shape",
               # numpy: the statement blocks and the chunked evaluation of large inputs
               "_forward", "_gradient", "_value_and_grad", "_CHUNK", "_large", "_chunked"}
    assert public <= allowed, public - allowed
    # the source is printable ASCII; the docstring shows the text exactly (escaped in the
    # source, so it reads back unchanged) and is the only place the comment appears
    assert all(ch == "\n" or " " <= ch <= "~" for ch in f.source)
    assert comment.rstrip() in module.__doc__
    clean = symback.compile("p = x * y\np + 1", backend=backend)
    assert f.source.count('"""') == clean.source.count('"""')
    assert f.source.split('"""', 2)[2] == clean.source.split('"""', 2)[2]  # same code after


def test_module_name_and_title_are_sanitised():
    f = symback.compile("x", name='"""; import os #\n\\')
    assert f.module.__doc__.startswith("___")
    g = symback.compile("# name: \"\"\"; import os\nx")
    assert g.module.__doc__.startswith("expr:") or '"' not in g.module.__doc__.split(":")[0]
