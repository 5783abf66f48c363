"""The order in which a bulk job runs its operations (RFC 7644 §3.7-§3.7.1)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

from scim_server.bulk.request import Operation


@dataclasses.dataclass(frozen=True)
class Step:
    """Operations that succeed or fail together, in one savepoint.

    A step is one operation, or POSTs that refer to each other in a cycle
    (RFC 7644 §3.7.1); a POST that refers to itself is a cycle of one.
    """

    operations: tuple[Operation, ...]
    circular: bool = False


def plan(operations: Sequence[Operation]) -> list[Step]:
    """The order to run ``operations`` in: each POST before what refers to it.

    Operations keep the order of the request, except that a POST moves up to
    just before the first operation that refers to it.
    """
    creators = {
        operation.creates: position
        for position, operation in enumerate(operations)
        if operation.creates is not None
    }
    edges = [
        [creators[bulk_id] for bulk_id in operation.referred() if bulk_id in creators]
        for operation in operations
    ]
    steps = []
    for component in _Components(edges):
        first = component[0]
        circular = len(component) > 1 or first in edges[first]
        members = tuple(operations[position] for position in sorted(component))
        steps.append(Step(members, circular))
    return steps


class _Components:
    """The strongly connected components of a graph (Tarjan's algorithm).

    Each component comes after every component it has edges to, and searches
    start from the nodes in their order, so nodes that depend on nothing keep
    their order. The search keeps its own stack, so a chain of a thousand
    references cannot exhaust Python's.
    """

    def __init__(self, edges: Sequence[Sequence[int]]) -> None:
        self._edges = edges
        self._order: dict[int, int] = {}  # when the search first reached a node
        self._low: dict[int, int] = {}  # the earliest node it can reach back to
        self._stack: list[int] = []
        self._on_stack: set[int] = set()

    def __iter__(self) -> Iterator[list[int]]:
        for root in range(len(self._edges)):
            if root not in self._order:
                yield from self._search(root)

    def _search(self, root: int) -> Iterator[list[int]]:
        work = [(root, 0)]
        while work:
            node, start = work.pop()
            if start == 0:
                self._order[node] = self._low[node] = len(self._order)
                self._stack.append(node)
                self._on_stack.add(node)
            successors = self._edges[node]
            for position in range(start, len(successors)):
                successor = successors[position]
                if successor not in self._order:
                    work.append((node, position + 1))
                    work.append((successor, 0))
                    break
                if successor in self._on_stack:
                    self._reach(node, self._order[successor])
            else:
                if self._low[node] == self._order[node]:
                    yield self._pop_component(node)
                if work:
                    self._reach(work[-1][0], self._low[node])

    def _reach(self, node: int, order: int) -> None:
        self._low[node] = min(self._low[node], order)

    def _pop_component(self, root: int) -> list[int]:
        component = []
        while True:
            node = self._stack.pop()
            self._on_stack.discard(node)
            component.append(node)
            if node == root:
                return component
