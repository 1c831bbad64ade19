"""Graphs compared whatever their blank node labels (`s22a.history.digests`, `same_triples`)."""

from __future__ import annotations

import random

from rdflib import BNode, Graph, Literal, Namespace
from rdflib.compare import isomorphic
from rdflib.namespace import XSD

from s22a.history import digests
from s22a.history.changes import same_triples, triple_diff

EX = Namespace("http://example.org/")


def turtle(text: str) -> Graph:
    return Graph().parse(data="@prefix ex: <http://example.org/> .\n" + text, format="turtle")


def test_the_same_trees_under_new_labels_are_the_same_triples():
    text = (
        'ex:a ex:budget [ ex:value 1 ; ex:kind [ ex:is "capital" ] ] ; ex:event [ ex:on "2020" ] .'
    )
    assert same_triples(turtle(text), turtle(text))
    assert not same_triples(turtle(text), turtle(text.replace('"capital"', '"revenue"')))


def test_one_blank_node_for_two_triples_is_not_two_alike():
    two = turtle('ex:a ex:p _:x . ex:b ex:p _:y . _:x ex:q "1" . _:y ex:q "1" .')
    shared = turtle('ex:a ex:p _:x . ex:b ex:p _:x . _:x ex:q "1" . _:z ex:q "1" .')
    assert len(two) == len(shared)
    assert digests.signature(shared, lambda t: t) is None  # no place of its own: rdflib decides
    assert not same_triples(two, shared) and not same_triples(shared, two)
    assert same_triples(
        shared, turtle('ex:a ex:p _:m . ex:b ex:p _:m . _:m ex:q "1" . _:n ex:q "1" .')
    )


def test_interchangeable_blank_nodes_are_counted():
    twins = turtle('ex:a ex:p [ ex:q "1" ], [ ex:q "1" ] .')
    assert len(twins) == 4
    assert same_triples(twins, turtle('ex:a ex:p [ ex:q "1" ], [ ex:q "1" ] .'))
    assert not same_triples(twins, turtle('ex:a ex:p [ ex:q "1" ], [ ex:q "2" ] .'))


def test_literals_are_compared_in_canonical_form():
    assert same_triples(turtle("ex:a ex:p [ ex:v 0.50 ] ."), turtle("ex:a ex:p [ ex:v 0.5 ] ."))
    assert same_triples(turtle("ex:a ex:v 0.50 ; ex:p [] ."), turtle("ex:a ex:v 0.5 ; ex:p [] ."))
    assert not same_triples(
        turtle("ex:a ex:v 0.50 ; ex:p [] ."), turtle("ex:a ex:v 0.6 ; ex:p [] .")
    )


def test_blank_nodes_that_lead_back_to_themselves_have_no_signature():
    cycle = turtle("_:x ex:p _:y . _:y ex:p _:x .")
    assert digests.signature(cycle, lambda t: t) is None
    assert same_triples(cycle, turtle("_:m ex:p _:n . _:n ex:p _:m ."))  # rdflib's answer


def random_tree_graph(rng: random.Random, size: int) -> Graph:
    """Resources with values, some of them small trees of blank nodes, often alike."""
    graph = Graph()
    nodes = [EX[f"r{i}"] for i in range(3)]
    for _ in range(size):
        subject = rng.choice(nodes)
        predicate = EX[rng.choice("pqr")]
        if rng.random() < 0.5:
            blank = BNode()
            graph.add((subject, predicate, blank))
            nodes.append(blank)
        else:
            graph.add((subject, predicate, Literal(rng.choice(["1", "2"]), datatype=XSD.string)))
    return graph


def relabelled(graph: Graph) -> Graph:
    names: dict[BNode, BNode] = {}

    def fresh(term):
        return names.setdefault(term, BNode()) if isinstance(term, BNode) else term

    again = Graph()
    for s, p, o in graph:
        again.add((fresh(s), p, fresh(o)))
    return again


def test_the_signature_agrees_with_rdflib_on_random_trees():
    rng = random.Random(22)
    checked = {True: 0, False: 0}
    for _ in range(300):
        first = random_tree_graph(rng, rng.randint(1, 9))
        second = relabelled(first) if rng.random() < 0.5 else random_tree_graph(rng, len(first))
        if rng.random() < 0.3:  # a small change to one of them
            s, p, o = next(iter(second))
            second.remove((s, p, o))
            second.add((s, EX.changed, o))
        expected = isomorphic(first, second)
        assert same_triples(first, second) == expected, (
            first.serialize(format="nt"),
            second.serialize(format="nt"),
        )
        checked[expected] += 1
    assert min(checked.values()) > 50  # both answers were put to the test


def test_the_difference_turns_the_old_graph_into_the_new():
    rng = random.Random(16)
    for _ in range(200):
        old = random_tree_graph(rng, rng.randint(1, 9))
        new = relabelled(old)
        for _ in range(rng.randint(0, 2)):  # a few changes, or none
            s, p, o = next(iter(new))
            new.remove((s, p, o))
            new.add((s, EX.changed, o) if rng.random() < 0.5 else (s, p, Literal("3")))
        added, removed = triple_diff(old, new)
        assert all(t in new for t in added) and all(t in old for t in removed)
        rebuilt = Graph()
        for triple in old:
            if triple not in removed:
                rebuilt.add(triple)
        # The blank nodes of the added triples are the new graph's: the old graph's blank nodes
        # that the removed triples leave are the same node relabelled.
        assert not not_a_tree_change(old, new)  # the linear difference was used
        assert isomorphic(rebuilt + added, new)
        if isomorphic(old, new):
            assert not added and not removed


def not_a_tree_change(old: Graph, new: Graph) -> bool:
    return digests.placed(old, lambda t: t) is None or digests.placed(new, lambda t: t) is None


def test_the_difference_of_ground_graphs_is_the_set_difference():
    old = turtle('ex:a ex:p "1", "2" ; ex:q ex:b .')
    new = turtle('ex:a ex:p "2", "3" ; ex:q ex:b .')
    added, removed = triple_diff(old, new)
    assert set(added) == {(EX.a, EX.p, Literal("3"))}
    assert set(removed) == {(EX.a, EX.p, Literal("1"))}
