from __future__ import annotations

import re

import pytest
from courtside_contracts.names import InvalidName, is_valid_name, validate_name
from courtside_contracts.subjects import (
    annotations_filter,
    annotations_subject,
    frames_subject,
    inference_queue_group,
    parse_subject,
    status_subject,
)


@pytest.mark.parametrize("name", ["court-1", "Court_2", "a", "x" * 64, "0"])
def test_valid_names_pass(name: str) -> None:
    assert validate_name(name) == name
    assert is_valid_name(name)


@pytest.mark.parametrize("name", ["", "x" * 65, "a.b", "*", ">", "a b", "../etc", "a/b", "ü", "cam\n", None, 3])
def test_invalid_names_are_refused(name: object) -> None:
    with pytest.raises(InvalidName):
        validate_name(name, "camera")
    assert not is_valid_name(name)


def test_invalid_name_message_names_the_field() -> None:
    with pytest.raises(InvalidName, match=re.escape("invalid camera 'a.b'")):
        validate_name("a.b", "camera")


def test_subjects_round_trip() -> None:
    assert frames_subject("court-1") == "frames.court-1"
    assert annotations_subject("court-1", "yolo") == "annotations.court-1.yolo"
    parts = parse_subject(annotations_subject("c1", "pose"))
    assert (parts.prefix, parts.camera, parts.model) == ("annotations", "c1", "pose")
    assert parse_subject(frames_subject("c1")).camera == "c1"
    assert status_subject("ingest", "i-1") == "status.ingest.i-1"
    assert inference_queue_group("yolo") == "infer.yolo"
    assert annotations_filter() == "annotations.*.*"
    assert annotations_filter(model="yolo") == "annotations.*.yolo"


@pytest.mark.parametrize("subject", ["frames", "frames.a.b", "annotations.a", "other.a", "frames.*", "annotations.a.>"])
def test_parse_refuses_unexpected_subjects(subject: str) -> None:
    with pytest.raises(InvalidName):
        parse_subject(subject)


def test_wildcards_cannot_be_injected_into_subjects() -> None:
    with pytest.raises(InvalidName):
        frames_subject(">")
    with pytest.raises(InvalidName):
        annotations_subject("c1", "*")
