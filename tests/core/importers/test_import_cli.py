"""``flagport import``: written files validate, are stable, report what is left out,
refuse bad input with a located message, and ``--verify`` agrees with the vendor SDKs
(and catches a file that does not)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flagport.cli import cli
from flagport.importers.run import PayloadError, import_payload

EXAMPLES = Path(__file__).parents[3] / "examples" / "import"
PAYLOADS = {
    "statsig": EXAMPLES / "statsig_specs.json",
    "growthbook": EXAMPLES / "growthbook_features.json",
    "featbit": EXAMPLES / "featbit_data_sync.json",
}


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


@pytest.mark.parametrize("vendor", sorted(PAYLOADS))
def test_example_imports_and_verifies_over_200_random_users(vendor: str, tmp_path: Path) -> None:
    out = tmp_path / "flags.yaml"
    result = run("import", vendor, str(PAYLOADS[vendor]), "-o", str(out), "--verify-random", "200")
    assert result.exit_code == 0, result.output
    assert "agree" in result.output
    assert "mismatch" not in result.output
    assert run("validate", str(out)).exit_code == 0


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
@pytest.mark.parametrize("vendor", sorted(PAYLOADS))
def test_same_payload_twice_gives_byte_identical_output(
    vendor: str, suffix: str, tmp_path: Path
) -> None:
    if vendor == "growthbook" and suffix == ".toml":
        suffix = ".json"  # GrowthBook values can be null, which TOML cannot hold
    first, second = tmp_path / "a" / f"flags{suffix}", tmp_path / "b" / f"flags{suffix}"
    for out in (first, second):
        out.parent.mkdir()
        assert run("import", vendor, str(PAYLOADS[vendor]), "-o", str(out)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    assert run("validate", str(first)).exit_code == 0


def test_toml_refuses_null_with_a_located_error(tmp_path: Path) -> None:
    payload = json.dumps({"features": {"f": {"defaultValue": None}}})
    result = run("import", "growthbook", "-", "-o", str(tmp_path / "f.toml"), stdin=payload)
    assert result.exit_code == 1
    assert "TOML has no null" in result.output


def test_every_flag_says_where_it_came_from() -> None:
    imported = import_payload("growthbook", PAYLOADS["growthbook"].read_text())
    for name, flag in imported.flags["experiments"].items():
        assert flag["description"] == f"Imported from GrowthBook feature {name!r}."


def _statsig_with_autotune() -> dict[str, Any]:
    specs = json.loads(PAYLOADS["statsig"].read_text())
    specs["dynamic_configs"]["button_test"] = {
        "name": "button_test", "type": "dynamic_config", "entity": "autotune",
        "salt": "s", "enabled": True, "defaultValue": {}, "rules": [], "idType": "userID",
    }  # fmt: skip
    return specs


def test_left_out_parts_exit_1_and_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "flags.yaml"
    stdin = json.dumps(_statsig_with_autotune())
    result = run("import", "statsig", "-", "-o", str(out), stdin=stdin)
    assert result.exit_code == 1
    assert "button_test" in result.output
    assert "nothing was written" in result.output
    assert not out.exists()


def test_partial_writes_the_rest_and_marks_what_was_left_out(tmp_path: Path) -> None:
    out = tmp_path / "flags.yaml"
    stdin = json.dumps(_statsig_with_autotune())
    result = run("import", "statsig", "-", "-o", str(out), "--partial", "--json", stdin=stdin)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [i["flag"] for i in report["left_out"]] == ["button_test"]
    text = out.read_text()
    assert "LEFT OUT" in text
    assert "button_test" in text
    assert run("validate", str(out)).exit_code == 0


def test_a_flag_the_flags_file_would_refuse_is_left_out_not_written(tmp_path: Path) -> None:
    # GrowthBook takes "$in" with a number (it never matches) and an empty feature key;
    # the flags file refuses both. The import said "imported 2 flags" and wrote a file
    # that failed to load, so the local provider served every flag its default.
    payload = {
        "features": {
            "bad_in": {
                "defaultValue": True,
                "rules": [{"condition": {"country": {"$in": 5}}, "force": False}],
            },
            "": {"defaultValue": 1},
            "fine": {"defaultValue": True},
        }
    }
    out = tmp_path / "flags.yaml"
    result = run("import", "growthbook", "-", "-o", str(out), stdin=json.dumps(payload))
    assert result.exit_code == 1
    assert "nothing was written" in result.output
    assert "$in takes a list of values, got 5" in result.output
    assert not out.exists()
    stdin = json.dumps(payload)
    result = run("import", "growthbook", "-", "-o", str(out), "--partial", "--json", stdin=stdin)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(i["flag"] for i in report["left_out"]) == ["", "bad_in"]
    assert report["imported"]["gates"] == ["fine"]
    assert run("validate", str(out)).exit_code == 0


@pytest.mark.parametrize(
    ("vendor", "payload", "message"),
    [
        ("growthbook", '{"features": {"a": ', "<stdin>:1:"),
        ("growthbook", '{"feature": {}}', "no 'features' at the top level"),
        ("statsig", '{"feature_gates": [], "dynamic_configs": []}', "older config-specs schema"),
        ("statsig", '{"response_format": "dcs-v9", "feature_gates": {}}', "'dcs-v9'"),
        (
            "featbit",
            '{"messageType": "data-sync", "data": {"eventType": "patch", "featureFlags": []}}',
            "eventType is 'patch'",
        ),
        ("featbit", '{"features": {}}', "no 'featureFlags'"),
        ("growthbook", '{"encryptedFeatures": "abc"}', "--decryption-key"),
        ("statsig", "[1, 2]", "not an object"),
    ],
)
def test_bad_input_is_one_located_error(vendor: str, payload: str, message: str) -> None:
    result = run("import", vendor, "-", "-o", "out.yaml", stdin=payload)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    with pytest.raises(PayloadError):
        import_payload(vendor, payload)


def test_encrypted_growthbook_payload_imports_with_its_key(tmp_path: Path) -> None:
    from flagport_growthbook.testing import encrypt

    key = "Ns04T5n9+59rl2x3SlNHtQ=="
    plain = json.loads(PAYLOADS["growthbook"].read_text())
    source = tmp_path / "enc.json"
    source.write_text(
        json.dumps(
            {
                "encryptedFeatures": encrypt(json.dumps(plain["features"]), key),
                "savedGroups": plain["savedGroups"],
            }
        )
    )
    out = tmp_path / "flags.yaml"
    args = ["import", "growthbook", str(source), "-o", str(out)]
    result = run(*args, "--verify-random", "50", "--decryption-key", key)
    assert result.exit_code == 0, result.output
    assert key not in out.read_text()
    assert key not in result.output
    wrong = run(*args, "--decryption-key", "AAAAAAAAAAAAAAAAAAAAAA==")
    assert wrong.exit_code == 1
    assert "cannot be decrypted" in wrong.output


def test_verify_catches_a_hand_edited_file(tmp_path: Path) -> None:
    from flagport import User
    from flagport.cli.importer import _verify  # the comparison the command runs

    out = tmp_path / "flags.yaml"
    assert run("import", "growthbook", str(PAYLOADS["growthbook"]), "-o", str(out)).exit_code == 0
    users = [User(user_id=f"u{i}", custom={"id": f"u{i}", "country": "FR"}) for i in range(40)]
    payload = PAYLOADS["growthbook"].read_bytes()
    args: dict[str, Any] = {"decryption_key": None, "as_json": True, "examples": 2}
    assert _verify("growthbook", payload, out, users, **args) is True
    out.write_text(out.read_text().replace("discount: 10", "discount: 11"))
    assert _verify("growthbook", payload, out, users, **args) is False


def test_a_bad_users_file_is_located_and_nothing_is_written(tmp_path: Path) -> None:
    users, out = tmp_path / "users.jsonl", tmp_path / "flags.yaml"
    users.write_text('{"user_id": "u1"}\nnot json\n')
    result = run(
        "import", "featbit", str(PAYLOADS["featbit"]), "-o", str(out), "--verify", str(users)
    )
    assert result.exit_code == 1
    assert f"{users}:2: not a user" in result.output
    assert not out.exists()


def test_verify_with_a_users_file_agrees(tmp_path: Path) -> None:
    users, out = tmp_path / "users.jsonl", tmp_path / "flags.yaml"
    rows = [{"user_id": f"u{i}", "country": ["US", "FR"][i % 2], "plan": "pro"} for i in range(60)]
    users.write_text("\n".join(json.dumps(r) for r in rows))
    for vendor in ("featbit", "growthbook", "statsig"):
        result = run(
            "import", vendor, str(PAYLOADS[vendor]), "-o", str(out), "--verify", str(users)
        )
        assert result.exit_code == 0, result.output
