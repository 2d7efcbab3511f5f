"""The call lifecycle table alone, with no call, no worker and no I/O (as h11 tests its state machine)."""

from __future__ import annotations

import itertools
import logging

import pytest

from llmtap.logging.hooks import FAILURE, POST, PRE, STREAM, SUCCESS, TRANSITIONS, refused

EVENTS = (PRE, POST, STREAM, SUCCESS, FAILURE)
OUTCOMES = (SUCCESS, FAILURE)


def walk(events: tuple[str, ...]) -> tuple[str, list[str]]:
    """Feed events to the table as a call record does: (final state, the events it refused)."""
    state, _, refusals = run(events)
    return state, refusals


def run(events: tuple[str, ...]) -> tuple[str, list[str], list[str]]:
    """(final state, the events accepted, the events refused), in order."""
    state, accepted, refusals = "new", [], []
    for event in events:
        nxt = TRANSITIONS.get((state, event))
        if nxt is None:
            refusals.append(event)
        else:
            accepted.append(event)
            state = nxt
    return state, accepted, refusals


@pytest.mark.parametrize(
    "events",
    [
        (PRE, POST, SUCCESS),
        (PRE, POST, FAILURE),
        (PRE, FAILURE),
        (PRE, PRE, PRE, POST, SUCCESS),  # retries send again
        (PRE, POST, STREAM, STREAM, SUCCESS),
        (PRE, POST, STREAM, FAILURE),  # a stream cut mid-way
        (SUCCESS,),  # cache hit or mock
        (FAILURE,),  # failed before anything was sent
    ],
)
def test_every_path_the_pipeline_takes_is_accepted_and_ends_done(events) -> None:
    assert walk(events) == ("done", [])


def test_nothing_leaves_done() -> None:
    for event in EVENTS:
        assert ("done", event) not in TRANSITIONS


def test_every_state_reached_from_new_can_still_end_in_exactly_one_outcome() -> None:
    states = {"new"} | set(TRANSITIONS.values())
    for state in states - {"done"}:
        assert any((state, outcome) in TRANSITIONS for outcome in OUTCOMES), state


@pytest.mark.parametrize("length", range(1, 6))
def test_no_sequence_logs_two_outcomes_or_post_without_pre(length) -> None:
    """Exhaustive over short sequences: what the table accepts is always a well-formed call."""
    for events in itertools.product(EVENTS, repeat=length):
        state, accepted, _ = run(events)
        outcomes = [e for e in accepted if e in OUTCOMES]
        assert len(outcomes) <= 1, events
        if outcomes:
            assert accepted[-1] in OUTCOMES and state == "done", events
        if POST in accepted:
            assert PRE in accepted and accepted.index(PRE) < accepted.index(POST), events
        if STREAM in accepted:
            assert POST in accepted and accepted.index(POST) < accepted.index(STREAM), events
        assert accepted.count(POST) <= 1, events


@pytest.mark.parametrize(
    ("events", "refused_events"),
    [
        ((PRE, POST, SUCCESS, SUCCESS), [SUCCESS]),
        ((PRE, POST, SUCCESS, FAILURE), [FAILURE]),
        ((FAILURE, SUCCESS), [SUCCESS]),
        ((POST, PRE, POST, SUCCESS), [POST]),
        ((STREAM, PRE, POST, SUCCESS), [STREAM]),
        ((PRE, POST, PRE, SUCCESS), [PRE]),  # no new attempt once the provider answered
    ],
)
def test_what_does_not_fit_is_refused(events, refused_events) -> None:
    assert walk(events) == ("done", refused_events)


def test_a_refusal_is_logged_naming_the_event_and_state(caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="llmtap"):
        refused("done", SUCCESS, "gpt-4o-mini")
    [record] = [r for r in caplog.records if r.name == "llmtap"]
    text = record.getMessage()
    assert SUCCESS in text and "'done'" in text and "gpt-4o-mini" in text
