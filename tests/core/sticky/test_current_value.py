"""A stored group is sticky; its value is the experiment's current value of that group."""

from __future__ import annotations

from pathlib import Path

from flagport import Flagport
from flagport.reasons import Reason
from flagport.sticky import Assignment


def flags(path: Path, *, control: str, weights: tuple[int, int], extra: str = "") -> str:
    path.write_text(
        f"""
experiments:
  button_color:
{extra}
    groups:
      - {{name: control, weight: {weights[0]}, value: {{color: {control}}}}}
      - {{name: blue, weight: {weights[1]}, value: {{color: blue}}}}
"""
    )
    return str(path)


def stored(fp: Flagport, group: str, value: dict[str, str]) -> None:
    fp._sticky.store.save([("u1", "button_color", Assignment(group, value))])  # type: ignore[union-attr]


def test_the_stored_group_serves_its_current_value_not_the_stored_one(tmp_path: Path) -> None:
    # Stored when control was gray; control is silver now and the weights send u1 to blue.
    path = flags(tmp_path / "f.yaml", control="silver", weights=(0, 100))
    fp = Flagport("local", path=path, sticky={"store": "memory"})
    stored(fp, "control", {"color": "gray"})
    with fp.scope({"user_id": "u1"}):
        in_scope = fp.get_experiment({"user_id": "u1"}, "button_color")
    outside = fp.get_experiment({"user_id": "u1"}, "button_color")
    for result in (in_scope, outside):
        assert (result.group, result.reason) == ("control", Reason.STICKY)
        assert dict(result.value) == {"color": "silver"}


def test_a_file_edit_changes_the_value_served_to_stored_users(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    flags(path, control="gray", weights=(0, 100))
    fp = Flagport("local", path=str(path), sticky={"store": "memory"})
    stored(fp, "control", {"color": "gray"})
    assert fp.get_experiment({"user_id": "u1"}, "button_color").value["color"] == "gray"
    flags(path, control="silver", weights=(0, 100))
    fp.provider.load()  # type: ignore[attr-defined]
    result = fp.get_experiment({"user_id": "u1"}, "button_color")
    assert (result.group, result.value["color"]) == ("control", "silver")


def test_a_user_no_longer_eligible_keeps_his_group_with_its_current_value(
    tmp_path: Path,
) -> None:
    path = flags(
        tmp_path / "f.yaml", control="silver", weights=(50, 50), extra="    when: {plan: pro}"
    )
    fp = Flagport("local", path=path, sticky={"store": "memory"})
    stored(fp, "control", {"color": "gray"})
    result = fp.get_experiment({"user_id": "u1"}, "button_color")
    assert (result.group, result.reason, dict(result.value)) == (
        "control",
        Reason.STICKY,
        {"color": "silver"},
    )


def test_a_stored_group_the_experiment_no_longer_has_is_reassigned(tmp_path: Path) -> None:
    path = flags(tmp_path / "f.yaml", control="silver", weights=(0, 100))
    fp = Flagport("local", path=path, sticky={"store": "memory"})
    stored(fp, "green", {"color": "green"})
    result = fp.get_experiment({"user_id": "u1"}, "button_color")
    assert (result.group, result.reason) == ("blue", Reason.SPLIT)
    fp.flush()
    assert fp._sticky.store.load("u1")["button_color"].group == "blue"  # type: ignore[union-attr]
