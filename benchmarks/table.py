"""Markdown rendering of a results document (see run.py for its layout)."""

from __future__ import annotations

RULES = {
    "build": "text -> callable for value+gradient, one cold build per process after a warm-up on an "
             "unrelated tiny expression (library import excluded; JAX includes tracing + XLA compile "
             "via the first call)",
    "ops": "primitive scalar operations (+ - * / ** neg, each elementary function call) in the "
           "straight-line program the tool executes, after the tool's own CSE; inputs, constants, "
           "copies, conversions and output packing are free. Cell: value+gradient / forward",
    "scalar": "one value_and_grad call at the sample point from Python floats, the way a user calls "
              "the tool; median per-call time over repeats",
    "batch": "value and gradient on N float64 points (n arrays of shape (N,)), median wall time; "
             "includes packing the inputs into the tool's format; excludes a first warm-up call",
    "error": "max over value and gradient components of |got - exact| / max(1, |exact|) at the sample "
             "point; exact = sympy.diff evaluated with mpmath at 30 digits († = sympy.diff hit the oracle "
             "cap; exact = reverse accumulation in mpmath at 40 digits instead)",
}

PEER_LABELS = {"handwritten": "hand-written"}


def _fmt_num(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def _fmt_err(e) -> str:
    if e is None:
        return "?"
    if e != e:
        return "nan"
    return "0" if e == 0 else f"{e:.1e}"


class _Notes:
    """Footnotes for long reasons, so that cells stay short."""

    def __init__(self):
        self.items: list[str] = []

    def ref(self, text: str | None) -> str:
        if not text:
            return ""
        if text not in self.items:
            self.items.append(text)
        return f" [{self.items.index(text) + 1}]"


def _status_cell(rec, key: str, notes: _Notes) -> str | None:
    """The status shown instead of a number, or None if the metric has a value."""
    if rec is None:
        return "—"
    if rec["status"] != "ok":
        st = rec["status"]
        reason = rec.get("reason")
        if st in ("not installed", "n/a"):
            return st
        return st + notes.ref(f"{rec['peer']} / {rec['workload']}: {reason}" if reason else None)
    st = rec.get(f"{key}_status")
    if st:
        reason = rec.get(f"{key}_reason")
        if st == "n/a":
            return "n/a"
        return st + notes.ref(f"{rec['peer']} / {rec['workload']} ({key}): {reason}" if reason else None)
    return None


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *[line(r) for r in rows]])


def metric_table(doc, workloads, peers, cell, notes: _Notes, row_filter=None) -> str:
    index = {(r["workload"], r["peer"]): r for r in doc["results"]}
    header = ["workload", "inputs"] + [PEER_LABELS.get(p, p) for p in peers]
    rows = []
    for wl in workloads:
        if row_filter and not row_filter(wl):
            continue
        row = [wl.name, str(wl.n_inputs)]
        for p in peers:
            row.append(cell(index.get((wl.name, p)), notes))
        rows.append(row)
    return _md_table(header, rows)


def _build_cell(rec, notes):
    st = _status_cell(rec, "build", notes)
    if st:
        return st
    return "–" if rec.get("build_s") is None else _fmt_num(rec["build_s"] * 1e3)


def _ops_cell(rec, notes):
    st = _status_cell(rec, "ops", notes)
    if st:
        return st
    if rec.get("ops_vg") is None:
        return "—"
    return f"{rec['ops_vg']} / {rec['ops_fwd']}"


def _scalar_cell(rec, notes):
    st = _status_cell(rec, "scalar", notes)
    if st:
        return st
    return _fmt_num(rec["scalar_us"]) if rec.get("scalar_us") is not None else "—"


def _batch_cell(rec, notes):
    st = _status_cell(rec, "batch", notes)
    if st:
        return st
    return _fmt_num(rec["batch_ms"]) if rec.get("batch_ms") is not None else "—"


def _error_cell_factory(doc):
    def cell(rec, notes):
        st = _status_cell(rec, "value", notes)
        if st:
            return st
        oracle = doc["oracle"].get(rec["workload"], {})
        if oracle.get("status") != "ok":
            return oracle.get("status", "no oracle")
        text = _fmt_err(rec.get("err")) + ("†" if oracle.get("method") == "mpmath-ad" else "")
        be = rec.get("batch_err")
        if be is not None and (be != be or be > max(1e-12, 100 * (rec.get("err") or 0))):
            text += f" (batch {_fmt_err(be)})"
        return text
    return cell


def _ratio(a, b) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    r = a / b
    return f"{r:.3g}×"


def ratio_table(doc, workloads) -> str:
    index = {(r["workload"], r["peer"]): r for r in doc["results"]}

    def get(wl, peer, key):
        r = index.get((wl, peer))
        return None if r is None or r["status"] != "ok" else r.get(key)

    cols = [
        ("build vs casadi", lambda w: _ratio(get(w, "symback", "build_s"), get(w, "casadi", "build_s"))),
        ("build vs sympy", lambda w: _ratio(get(w, "symback", "build_s"), get(w, "sympy", "build_s"))),
        ("call vs sympy", lambda w: _ratio(get(w, "symback", "scalar_us"), get(w, "sympy", "scalar_us"))),
        ("call vs hand-written", lambda w: _ratio(get(w, "symback", "scalar_us"),
                                                  get(w, "handwritten", "scalar_us"))),
        ("ops vs own forward", lambda w: _ratio(get(w, "symback", "ops_vg"), get(w, "symback", "ops_fwd"))),
        ("ops vs casadi", lambda w: _ratio(get(w, "symback", "ops_vg"), get(w, "casadi", "ops_vg"))),
        ("ops vs sympy", lambda w: _ratio(get(w, "symback", "ops_vg"), get(w, "sympy", "ops_vg"))),
        ("batch vs jax", lambda w: _ratio(get(w, "symback", "batch_ms"), get(w, "jax", "batch_ms"))),
    ]
    header = ["workload"] + [c[0] for c in cols]
    rows = [[wl.name] + [f(wl.name) for _, f in cols] for wl in workloads]
    return _md_table(header, rows)


def render(doc, workloads) -> str:
    peers = doc["settings"]["peers"]
    s = doc["settings"]
    notes = _Notes()
    out = ["# symback benchmarks", ""]
    m = doc["meta"]
    out.append(f"{m['date']} · Python {m['python']} · {m['platform']} · {m['cpu_count']} cores · "
               f"cap {s['timeout']:g}s per peer and workload · oracle cap {s['oracle_timeout']:g}s · "
               f"repeat {s['repeat']}" + (" · **quick**" if s["quick"] else ""))
    out.append("")
    out.append("Peers: " + "; ".join(
        f"{PEER_LABELS.get(p, p)} {doc['peers'][p].get('version', '')} ({doc['peers'][p].get('backend', '')})"
        for p in peers if p in doc["peers"]))
    missing = [p for p in peers if p not in doc["peers"]]
    if missing:
        out.append("")
        out.append("Not run (not installed / not available): " + ", ".join(missing))
    sections = [
        ("Build time (ms)", RULES["build"], _build_cell, None),
        ("Op count: value+gradient / forward", RULES["ops"], _ops_cell, None),
        ("Scalar value_and_grad call (µs)", RULES["scalar"], _scalar_cell, None),
        (f"Batch of {s['batch_size']:,} points (ms)", RULES["batch"], _batch_cell,
         lambda wl: wl.n_inputs <= s["max_batch_inputs"]),
        ("Max error vs 30-digit oracle", RULES["error"], _error_cell_factory(doc), None),
    ]
    for title, rule, cell, flt in sections:
        if "Batch" in title and s["batch_size"] <= 0:
            continue
        out += ["", f"## {title}", "", f"_{rule}._", "", metric_table(doc, workloads, peers, cell, notes, flt)]
    if "symback" in peers:
        out += ["", "## Ratios symback / peer", "",
                "_< 1× means symback is faster / smaller. build: build time; call: scalar call time; "
                "ops: value+gradient op count; batch: batch time._", "", ratio_table(doc, workloads)]
    if notes.items:
        out += ["", "Notes:", ""]
        out += [f"[{i}] {text}" for i, text in enumerate(notes.items, 1)]
    return "\n".join(out) + "\n"
