"""A small graph model (nodes, nested groups, labelled edges) and its Mermaid and DOT text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

SHAPES = {
    # shape: (Mermaid open, Mermaid close, Graphviz shape)
    "box": ('["', '"]', "box"),
    "store": ('[("', '")]', "cylinder"),
    "circle": ('(("', '"))', "circle"),
    "guard": ('{{"', '"}}', "hexagon"),
    "pill": ('(["', '"])', "box"),
}


def node_id(*parts: str) -> str:
    """A Mermaid- and DOT-safe identifier; the `n_` prefix keeps clear of keywords like `end`."""
    return "n_" + re.sub(r"[^0-9A-Za-z]+", "_", "_".join(parts)).strip("_").lower()


@dataclass(frozen=True)
class Node:
    id: str
    lines: tuple[str, ...]
    shape: str = "box"
    css: str = ""
    """A class name the renderers style (`gateway`, `compute`, `store`, `network`), or empty."""


@dataclass
class Group:
    id: str
    label: str
    nodes: list[Node] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    anchor_id: str = ""
    """The node that stands in for the group where an edge ends on it; first node if empty."""

    def walk(self) -> Iterator[Group]:
        yield self
        for g in self.groups:
            yield from g.walk()

    def anchor(self) -> str:
        """A node inside the group, for renderers that cannot end an edge on a group."""
        if self.anchor_id:
            return self.anchor_id
        for g in self.walk():
            if g.nodes:
                return g.nodes[0].id
        return ""


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    label: str = ""
    dotted: bool = False
    rule: str = ""
    """URN of the security-group rule this edge stands for, or empty for wiring."""


@dataclass
class Diagram:
    title: str
    top: Group
    """The root: its nodes and groups are drawn at the top level."""
    edges: list[Edge] = field(default_factory=list)

    def nodes(self) -> dict[str, Node]:
        return {n.id: n for g in self.top.walk() for n in g.nodes}

    def groups(self) -> dict[str, Group]:
        return {g.id: g for g in self.top.walk()}


_STYLE = {
    "gateway": ("#eef4ff", "#3b6fd8"),
    "compute": ("#eefaf0", "#2f8f46"),
    "store": ("#fff3e6", "#c46a00"),
    "network": ("#f5f5f5", "#777777"),
}


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(diagram: Diagram) -> str:
    out = ["---", f"title: {json.dumps(diagram.title, ensure_ascii=False)}", "---", "flowchart LR"]

    def emit(group: Group, depth: int) -> None:
        pad = "    " * depth
        for n in group.nodes:
            start, end, _ = SHAPES[n.shape]
            label = "<br/>".join(_mermaid_text(x) for x in n.lines)
            out.append(f"{pad}{n.id}{start}{label}{end}")
        for g in group.groups:
            out.append(f'{pad}subgraph {g.id}["{_mermaid_text(g.label)}"]')
            emit(g, depth + 1)
            out.append(f"{pad}end")

    emit(diagram.top, 1)
    # Mermaid's layout fails on some edges that end on nested subgraphs, so such an edge
    # ends on the group's anchor node instead.
    groups = diagram.groups()
    for e in diagram.edges:
        src = groups[e.src].anchor() if e.src in groups else e.src
        dst = groups[e.dst].anchor() if e.dst in groups else e.dst
        arrow = "-.->" if e.dotted else "-->"
        label = f'|"{_mermaid_text(e.label)}"|' if e.label else ""
        out.append(f"    {src} {arrow}{label} {dst}")
    for css, (fill, stroke) in _STYLE.items():
        out.append(f"    classDef {css} fill:{fill},stroke:{stroke}")
    for css in _STYLE:
        members = sorted(n.id for n in diagram.nodes().values() if n.css == css)
        if members:
            out.append(f"    class {','.join(members)} {css}")
    return "\n".join(out) + "\n"


def _dot(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def to_dot(diagram: Diagram) -> str:
    """Graphviz DOT text; edges that end on a group are clipped at its border (compound)."""
    out = [
        "digraph reevo {",
        f"    graph [rankdir=LR, compound=true, fontname=Helvetica, label={_dot(diagram.title)}];",
        "    node [fontname=Helvetica, style=filled, fillcolor=white];",
        "    edge [fontname=Helvetica, fontsize=10];",
    ]

    def emit(group: Group, depth: int) -> None:
        pad = "    " * depth
        for n in group.nodes:
            fill = _STYLE.get(n.css, ("white", "black"))
            attrs = f"shape={SHAPES[n.shape][2]}, fillcolor={_dot(fill[0])}"
            out.append(f"{pad}{n.id} [label={_dot(chr(10).join(n.lines))}, {attrs}];")
        for g in group.groups:
            out.append(f"{pad}subgraph cluster_{g.id} {{")
            out.append(f"{pad}    label={_dot(g.label)};")
            emit(g, depth + 1)
            out.append(f"{pad}}}")

    emit(diagram.top, 1)
    groups = diagram.groups()
    for e in diagram.edges:
        attrs = [f"label={_dot(e.label)}"] if e.label else []
        attrs += ["style=dashed"] if e.dotted else []
        src, dst = e.src, e.dst
        if src in groups:
            attrs.append(f"ltail=cluster_{src}")
            src = groups[src].anchor()
        if dst in groups:
            attrs.append(f"lhead=cluster_{dst}")
            dst = groups[dst].anchor()
        out.append(f"    {src} -> {dst} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"
