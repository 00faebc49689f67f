"""The case classifier: hazards, quality on held-out seed data, artifacts, corrections."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from services.routing.classification.hazards import find_hazards
from services.routing.classification.model import (
    SEED_PATH,
    Classifier,
    Example,
    Model,
    default_model,
    load_examples,
    record_correction,
    train_from_jsonl,
)
from shared.clock import FrozenClock
from shared.errors import ConfigError, Invalid

TRAINED_AT = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
Split = tuple[list[Example], list[Example]]


def held_out_split(org: str) -> Split:
    """Return the deterministic train / held-out split the benchmark uses."""
    mine = [e for e in load_examples(SEED_PATH) if e.org == org]
    train, test = train_test_split(
        mine, test_size=0.25, random_state=13, stratify=[e.topic for e in mine]
    )
    return list(train), list(test)


@pytest.fixture(scope="module")
def splits() -> dict[str, Split]:
    """Split each demo organisation's seed examples once."""
    return {org: held_out_split(org) for org in ("pea", "or")}


@pytest.fixture(scope="module")
def models(splits: dict[str, Split]) -> dict[str, Model]:
    """Train each organisation's model once, on its training part only."""
    classifier = Classifier(clock=FrozenClock(TRAINED_AT))
    return {org: classifier.train(train, org=org) for org, (train, _) in splits.items()}


def test_a_compliment_mentioning_a_live_wire_on_the_road_is_urgent(
    models: dict[str, Model],
) -> None:
    text = "ขอชมพนักงานที่บริการดีมากค่ะ ว่าแต่ตอนนี้มีสายไฟขาดพาดถนนหน้าบ้าน เด็กเดินผ่านทุกวัน"
    prediction = models["pea"].predict(text)
    assert prediction.urgency == "urgent"
    assert "downed_wire" in prediction.hazards


@pytest.mark.parametrize(
    ("org", "text", "hazard"),
    [
        ("pea", "หม้อแปลงหน้าวัดระเบิดเสียงดัง มีควันขึ้น ไฟดับทั้งหมู่บ้าน", "transformer_fire"),
        ("pea", "เสาไฟฟ้าล้มขวางถนนหลังพายุ", "fallen_pole"),
        ("pea", "มีคนถูกไฟดูดตอนตัดกิ่งไม้ใกล้สายไฟ", "electrocution"),
        ("pea", "ไฟดับค่ะ แม่ใช้เครื่องผลิตออกซิเจนอยู่ แบตสำรองใกล้หมดแล้ว", "life_support"),
        ("pea", "จ่ายค่าไฟแล้ว ขอต่อไฟกลับด่วน ที่บ้านมีผู้ป่วยติดเตียง", "bedridden_patient"),
        ("or", "ได้กลิ่นแก๊สรั่วในครัว ปิดวาล์วแล้วยังไม่หาย", "gas_leak"),
        ("or", "ขอบคุณพนักงานที่ใจดีค่ะ แต่หัวจ่ายรั่ว น้ำมันนองพื้นลานปั๊ม", "fuel_leak"),
    ],
)
def test_a_hazard_makes_the_case_urgent_whatever_the_model_thinks(
    models: dict[str, Model], org: str, text: str, hazard: str
) -> None:
    prediction = models[org].predict(text)
    assert hazard in prediction.hazards
    assert prediction.urgency == "urgent"


def test_a_negated_hazard_does_not_fire() -> None:
    text = "เสาไฟถนนโดนรถชนเอียงเล็กน้อย ไม่มีสายไฟขาดหรือประกายไฟ โคมยังติดอยู่"
    assert find_hazards(text) == ()
    assert find_hazards("ไม่ได้กลิ่นแก๊สแล้วค่ะ ขอบคุณที่มาเปลี่ยนถังให้") == ()


def test_an_out_of_office_reply_is_never_urgent(models: dict[str, Model]) -> None:
    text = (
        "ตอบกลับอัตโนมัติ: [VOC-2026-000125] ได้รับเรื่องร้องเรียนของท่านแล้ว\n"
        "ขณะนี้ผมไม่อยู่ที่สำนักงานระหว่างวันที่ 16-20 พฤศจิกายน 2569\n"
        "หากมีเรื่องด่วน เช่น สายไฟขาด กรุณาติดต่อคุณนภา โทร 02-555-0199"
    )
    prediction = models["pea"].predict(text)
    assert prediction.hazards == ()
    assert prediction.urgency in {"low", "normal"}


@pytest.mark.parametrize("org", ["pea", "or"])
def test_every_held_out_urgent_example_is_predicted_urgent(
    models: dict[str, Model], splits: dict[str, Split], org: str
) -> None:
    urgent = [e for e in splits[org][1] if e.urgency == "urgent"]
    predictions = models[org].predict_many([e.text for e in urgent])
    assert urgent
    assert [p.urgency for p in predictions] == ["urgent"] * len(urgent)


@pytest.mark.parametrize("org", ["pea", "or"])
def test_topic_macro_f1_on_the_held_out_split_reaches_the_target(
    models: dict[str, Model], splits: dict[str, Split], org: str
) -> None:
    test = splits[org][1]
    predicted = [p.topic for p in models[org].predict_many([e.text for e in test])]
    assert f1_score([e.topic for e in test], predicted, average="macro") >= 0.85


@pytest.mark.parametrize("org", ["pea", "or"])
def test_small_talk_goes_to_triage(models: dict[str, Model], org: str) -> None:
    prediction = models[org].predict("สวัสดีครับ")
    assert prediction.needs_triage


def test_a_clear_outage_report_routes_without_triage(models: dict[str, Model]) -> None:
    prediction = models["pea"].predict("ไฟดับทั้งซอยตั้งแต่ตีสอง ยังไม่มาเลยค่ะ")
    assert (prediction.topic, prediction.needs_triage) == ("outage", False)


def test_a_saved_model_loads_and_predicts_the_same(
    models: dict[str, Model], splits: dict[str, Split], tmp_path: Path
) -> None:
    model = models["or"]
    texts = [e.text for e in splits["or"][1]]
    loaded = Model.load(model.save(tmp_path / model.version))
    assert loaded.predict_many(texts) == model.predict_many(texts)
    meta = json.loads((tmp_path / model.version / "meta.json").read_text())
    assert meta["training_size"] == len(splits["or"][0])
    assert meta["created_at"] == "2026-11-18T09:30:00+00:00"
    assert "lpg" in meta["labels"]["topic"]
    assert re.fullmatch(r"or-20261118093000-[0-9a-f]{8}", loaded.version)


def test_a_tampered_artifact_is_refused(models: dict[str, Model], tmp_path: Path) -> None:
    path = models["or"].save(tmp_path / "artifact")
    with (path / "model.pkl").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ConfigError, match="checksum"):
        Model.load(path)


def test_an_agents_correction_is_appended_as_a_labelled_example(tmp_path: Path) -> None:
    path = tmp_path / "labels" / "pea.jsonl"
    first = Example(
        org="pea",
        text="ไฟตกทุกเย็น",
        category="complaint",
        topic="voltage",
        urgency="normal",
        id="case-1-4",
        channel="line",
    )
    second = Example(
        org="pea",
        text="ขอย้ายมิเตอร์",
        category="request",
        topic="meter",
        urgency="low",
        id="case-2-3",
    )
    record_correction(path, first)
    record_correction(path, second)
    assert load_examples(path) == [first, second]
    assert "ไฟตกทุกเย็น" in path.read_text(encoding="utf-8")  # Thai is kept readable


def test_a_correction_with_a_topic_of_another_organisation_is_refused(tmp_path: Path) -> None:
    example = Example(
        org="pea", text="ถังแก๊สรั่ว", category="complaint", topic="lpg", urgency="urgent"
    )
    with pytest.raises(Invalid, match="lpg"):
        record_correction(tmp_path / "pea.jsonl", example)
    assert not (tmp_path / "pea.jsonl").exists()


def test_a_malformed_line_in_a_labels_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "pea.jsonl"
    path.write_text('{"org": "pea", "text": "ไฟดับ"}\n', encoding="utf-8")
    with pytest.raises(Invalid, match=r"pea\.jsonl:1"):
        load_examples(path)


def test_a_label_seen_only_once_still_trains(splits: dict[str, Split]) -> None:
    train = [e for e in splits["or"][0] if e.urgency != "high"][:60]
    once = next(e for e in splits["or"][0] if e.urgency == "high")
    model = Classifier().train([*train, once], org="or")
    assert model.meta["labels"]["urgency"] == ["high", "low", "normal", "urgent"]
    assert model.predict(once.text).topic == once.topic


def test_an_unknown_organisation_is_a_clear_error(splits: dict[str, Split], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown organisation 'mea'.*pea"):
        Classifier().train(splits["pea"][0], org="mea")
    with pytest.raises(ConfigError, match="unknown organisation 'mea'"):
        default_model("mea", cache_dir=tmp_path)


def test_training_from_jsonl_saves_one_versioned_artifact_per_organisation(
    splits: dict[str, Split], tmp_path: Path
) -> None:
    seed = tmp_path / "examples.jsonl"
    sample = splits["pea"][0][:60] + splits["or"][0][:40]
    seed.write_text("".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in sample))
    saved = train_from_jsonl(seed, tmp_path / "models")
    assert sorted(saved) == ["or", "pea"]
    for org, path in saved.items():
        assert path.parent == tmp_path / "models"
        assert Model.load(path).version == path.name
        assert path.name.startswith(f"{org}-")


def test_the_default_model_is_trained_once_and_then_read_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = default_model("or", cache_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [first.version]

    def no_training(*args: object, **kwargs: object) -> Model:
        raise AssertionError("the cached artifact should have been used")

    monkeypatch.setattr(Classifier, "train", no_training)
    again = default_model("or", cache_dir=tmp_path)
    assert again.version == first.version
    assert again.predict("ถังแก๊สรั่ว") == first.predict("ถังแก๊สรั่ว")
